"""Settings read from the environment (prefix ``TRADING_``) and an optional ``.env`` file."""

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources

Environment = Literal["local", "staging", "production"]

# Only these environments publish the OpenAPI schema, Swagger UI and ReDoc.
SHOW_DOCS_ENVIRONMENTS: frozenset[Environment] = frozenset({"local", "staging"})


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, ``.env``, defaults."""

    model_config = SettingsConfigDict(env_prefix="TRADING_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Environment = "local"
    app_name: str = "Trading Operations API"
    # The course gives every run a database of its own: a SQLite file, or PostgreSQL in services mode.
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))
    # How long to wait for a database server that does not answer, in seconds.
    database_connect_timeout: int = Field(default=3, ge=1, le=60)
