"""Settings read from the environment (prefix ``TRADING_``)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, defaults."""

    model_config = SettingsConfigDict(env_prefix="TRADING_", extra="ignore")

    app_name: str = "Trading desk"
    # The course gives each run a database of its own: a SQLite file (embedded mode)
    # or a fresh PostgreSQL database (services mode). Set TRADING_DATABASE_URL to use another.
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))
