"""Settings read from the environment (prefix ``BOOKLY_``)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, defaults."""

    model_config = SettingsConfigDict(env_prefix="BOOKLY_", extra="ignore")

    app_name: str = "Bookly lending"
    # The course gives each run a database of its own: a SQLite file (embedded mode) or a fresh
    # PostgreSQL database (services mode). Tests pass a URL of their own: a file in tmp_path.
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))
    # How long a loan lasts: the book is due back this many days after the day it was borrowed.
    loan_days: int = Field(default=14, ge=1, le=90)
    # What a late return costs, per day after the due date, in cents.
    fee_per_day_cents: int = Field(default=25, ge=0, le=1000)
