"""Settings read from the environment (prefix ``REPORTS_``).

The API reads them, and so does every Celery worker: a worker is another process (in
services mode) that shares nothing with the API but the broker, the result backend and
these settings, which it gets through its own environment.
"""

import secrets
from datetime import date
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources

ENV_PREFIX = "REPORTS_"


def _fresh_queue_prefix() -> str:
    """Queue names of one app instance: two apps of a run never take each other's tasks."""
    return f"{get_resources().celery_queue}.{secrets.token_hex(3)}"


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, defaults."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    app_name: str = "Reports"
    # The course gives each run a database of its own: a SQLite file (embedded mode)
    # or a fresh PostgreSQL database (services mode). Set REPORTS_DATABASE_URL to use another.
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))
    # Where mail goes: one .eml file per message, as a mail server would pick them up. Unset, every
    # app instance writes to a fresh folder of its own; a folder that does not exist is a mail server that is down.
    outbox: Path | None = None

    # --- Celery -------------------------------------------------------------------------------------
    # This app's queues are "<prefix>.reports" and "<prefix>.priority", each with a worker of its own.
    queue_prefix: str = Field(default_factory=_fresh_queue_prefix, pattern=r"^[\w.-]{1,100}$")
    # Start the two workers in the app's lifespan. In production they are processes of their own
    # (`celery -A labs.lesson10_background.celery_app:celery_app worker --queues ...`): set this to false.
    workers: bool = True
    # Redis broker only: how long a task a worker took, but never acknowledged, waits before it is given again.
    visibility_timeout: int = Field(default=3600, ge=1, le=86_400)

    # --- the warehouse the reports read (a stand-in: see warehouse.py) --------------------------------
    # How long reading one day of sales takes.
    day_seconds: float = Field(default=0.05, ge=0, le=5)
    # The warehouse refuses the first N attempts of every report, as a database does while it restarts.
    warehouse_outage: int = Field(default=0, ge=0, le=100)
    # The first day with sales data; a report that starts earlier fails.
    data_since: date = date(2023, 1, 1)

    # --- retries and monitoring ---------------------------------------------------------------------
    # The first retry waits this long, in seconds; each next one twice as long as the one before.
    retry_delay: float = Field(default=0.2, gt=0, le=60)
    # Retries after the first attempt; then the report fails.
    max_retries: int = Field(default=3, ge=0, le=10)
    # How often the API's monitor looks at the reports that are not settled yet.
    monitor_interval: float = Field(default=0.2, gt=0, le=60)

    @property
    def queue(self) -> str:
        return f"{self.queue_prefix}.reports"

    @property
    def priority_queue(self) -> str:
        return f"{self.queue_prefix}.priority"

    def environment(self) -> dict[str, str]:
        """These settings as environment variables: what a worker process needs to read the same ones."""
        values = self.model_dump(mode="json", exclude_none=True)
        return {f"{ENV_PREFIX}{name.upper()}": str(value) for name, value in values.items()}
