"""Settings read from the environment, prefix ``BOOKLY_``.

The app and Alembic's ``env.py`` read the same ``Settings``, so both always talk to
the same database: ``BOOKLY_DATABASE_URL=... alembic upgrade head`` migrates the
database the app will use.
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOOKLY_", extra="ignore")

    # In this course each run gets a database of its own: a SQLite file (embedded mode)
    # or a fresh PostgreSQL database (services mode). In your own project this would be
    # a plain string read from the environment, such as "postgresql+psycopg://...".
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))
    app_name: str = "Bookly"
