"""Settings read from the environment (prefix ``TRACKER_``)."""

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources

ENV_PREFIX = "TRACKER_"


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, defaults."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    app_name: str = "Tracker"
    # The course gives each run a database of its own: a SQLite file (embedded mode)
    # or a fresh PostgreSQL database (services mode). Set TRACKER_DATABASE_URL to use another.
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))
    # Where the data lives: "sql" (the database above) or "memory" (a dict per table, in this process).
    # The service layer does not know which: it talks to a unit of work and its repository.
    repository: Literal["sql", "memory"] = "sql"
    # Tests only: every write to the history fails, as if its table were full or locked, so that
    # you can see what happens to the change the history row was meant to record.
    history_fails: bool = False
