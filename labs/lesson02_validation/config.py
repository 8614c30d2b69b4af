"""Settings read from the environment (prefix ``TRADING_``) and an optional ``.env`` file."""

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "staging", "production"]

# Only these environments publish the OpenAPI schema, Swagger UI and ReDoc.
SHOW_DOCS_ENVIRONMENTS: frozenset[Environment] = frozenset({"local", "staging"})


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, ``.env``, defaults."""

    model_config = SettingsConfigDict(env_prefix="TRADING_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Environment = "local"
    app_name: str = "Trading Operations API"
