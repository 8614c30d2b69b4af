"""Settings read from the environment (prefix ``TRADING_``).

Every lifetime, delay and limit is a setting, so a check can give the app a cache that
expires within a second, or a limit of three requests.
"""

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources

Environment = Literal["local", "staging", "production"]


def _redis_prefix() -> str:
    # The course gives each run a key prefix of its own, so parallel runs never share keys.
    return f"{get_resources().key_prefix}trading:"


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, defaults."""

    model_config = SettingsConfigDict(env_prefix="TRADING_", extra="ignore")

    environment: Environment = "local"
    app_name: str = "Trading Operations API"
    # The course gives each run a database of its own: a SQLite file, or PostgreSQL in services mode.
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))
    # Every key of this app starts with this: fakeredis in embedded mode, a shared Redis in services mode.
    redis_prefix: str = Field(default_factory=_redis_prefix)

    # The market data provider is slow: each quote it serves takes this long.
    provider_delay_seconds: float = Field(default=0.5, ge=0, le=10)
    # How long a cached response lives, in Redis and in the client's cache (max-age).
    quote_ttl_seconds: int = Field(default=30, ge=1, le=86_400)
    portfolio_ttl_seconds: int = Field(default=60, ge=1, le=86_400)
    # The stampede guard: how long one request may hold the right to load a missing entry.
    cache_lock_seconds: float = Field(default=5, gt=0, le=60)

    # Every API route: requests per user within one window, then 429 until the window ends.
    rate_limit: int = Field(default=120, ge=1, le=1_000_000)
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=86_400)
    # POST /portfolio/trades has a tighter limit of its own, on top of the global one.
    trade_limit: int = Field(default=10, ge=1, le=1_000_000)
    trade_limit_window_seconds: int = Field(default=60, ge=1, le=86_400)
