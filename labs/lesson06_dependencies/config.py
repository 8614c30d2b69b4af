"""Settings read from the environment (prefix ``SHOP_``)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, defaults."""

    model_config = SettingsConfigDict(env_prefix="SHOP_", extra="ignore")

    app_name: str = "Corner Shop API"
    # The course gives each run a database of its own: a SQLite file (embedded mode)
    # or a fresh PostgreSQL database (services mode). Set SHOP_DATABASE_URL to use another.
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))
    # How many calls a customer's plan includes; the next one is refused with 429.
    call_quota: int = Field(default=1000, ge=1, le=1_000_000)
    # Where mail goes: one JSON file per message, as a mail server would pick them up.
    # Unset, every app instance writes to a fresh directory of its own.
    outbox_dir: Path | None = None
    # Maintenance: every request that would change something is refused with 503.
    read_only: bool = False
    # Print each dependency, route and teardown step as it runs (SHOP_TRACE=true), to watch a request.
    trace: bool = False
