"""Settings read from the environment (prefix ``STORE_``), one set per environment.

``STORE_APP_ENV`` says where the app runs: ``development`` (the default: interactive docs,
tables created at start-up) or ``production`` (no docs, tables made by the seed step).
"""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources

AppEnv = Literal["development", "production"]


def _redis_prefix() -> str:
    """Every key of this app starts with this: parallel runs of the course never share keys."""
    return f"{get_resources().key_prefix}store:"


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, defaults."""

    model_config = SettingsConfigDict(env_prefix="STORE_", extra="ignore")

    app_name: str = "Storefront"
    app_env: AppEnv = "development"
    # The course gives each run a database of its own: a SQLite file (embedded mode)
    # or a fresh PostgreSQL database (services mode). Set STORE_DATABASE_URL to use another.
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))
    # Unset: the course's Redis (fakeredis in embedded mode). Set it to reach a real one.
    redis_url: str | None = None
    redis_prefix: str = Field(default_factory=_redis_prefix)
    # Create the tables and the demo products at start-up. Production leaves it to the seed step.
    create_tables: bool = True

    # --- the sales report: a legacy, blocking client that takes this long --------------------------------------
    report_seconds: float = Field(default=0.2, ge=0, le=10)
    # --- health: how long a readiness probe waits for each dependency -------------------------------------------
    health_timeout_seconds: float = Field(default=1.0, gt=0, le=10)
    # --- metrics: the directory every worker process writes its metrics to (multiprocess mode) -----------------
    # prometheus_client reads PROMETHEUS_MULTIPROC_DIR itself; unset, each process keeps its own metrics.
    metrics_dir: Path | None = Field(default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR")

    @property
    def production(self) -> bool:
        return self.app_env == "production"
