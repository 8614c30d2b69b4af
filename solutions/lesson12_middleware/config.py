"""Settings read from the environment (prefix ``TRADING_``).

Lists are JSON in the environment: ``TRADING_CORS_ORIGINS='["http://localhost:5173"]'``.
The secrets (the signing key, the demo trader's password) have local defaults that anyone can
read in this file: set your own outside a laptop.
"""

from pathlib import Path
from typing import Annotated, Self
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources

MIN_SECRET_BYTES = 32  # HS256 wants a key at least as long as its 256-bit hash
RootPath = Annotated[str, StringConstraints(pattern=r"^(/[A-Za-z0-9._~-]+)*$", max_length=200)]


def origin_error(origin: str) -> str | None:
    """Why ``origin`` is not an origin a browser sends (``scheme://host[:port]``), or None if it is one."""
    if origin == "*":
        return "a wildcard: with credentials, list each origin"
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not scheme://host[:port]"
    if parts.path or parts.query or parts.fragment or parts.username or origin != origin.strip():
        return "a browser's Origin header has no path, not even a trailing /"
    return None


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, defaults."""

    model_config = SettingsConfigDict(env_prefix="TRADING_", extra="ignore")

    app_name: str = "Trading desk"
    # The course gives each run a database of its own: a SQLite file (embedded mode)
    # or a fresh PostgreSQL database (services mode). Set TRADING_DATABASE_URL to use another.
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))

    # --- sessions: a JWT in an HttpOnly cookie (lesson 07) ----------------------------------------------
    secret_key: str = "local-only-secret-key-of-the-trading-desk-change-me"
    session_seconds: int = Field(default=3600, ge=1, le=86_400)
    # The desk's demo trader, created at start-up; the password comes from the environment.
    demo_email: str = "ada@desk.example"
    demo_password: str = Field(default="local-only-demo-password", min_length=8, max_length=128)
    # Tests only: a cheap Argon2, so that a test suite does not spend its time hashing.
    fast_password_hash: bool = False
    # Browsers keep a Secure cookie only from https, or from http://localhost.
    cookie_secure: bool = True

    # --- the market data provider: how long one quote takes ---------------------------------------------
    quote_seconds: float = Field(default=0.05, ge=0, le=5)

    # --- middleware ---------------------------------------------------------------------------------------
    # Where the access log goes: one JSON line per request. Unset, to the "trading.access" logger.
    access_log: Path | None = None
    # The pages (origins) whose scripts may call this API, cookies included. Never "*".
    cors_origins: list[str] = ["http://localhost:5173"]
    # The Host names this API answers to; any other gets 400. "testserver" is the test clients' host.
    allowed_hosts: list[str] = ["localhost", "127.0.0.1", "testserver"]
    # Responses shorter than this many bytes are sent as they are; longer ones gzipped, if the client accepts it.
    gzip_minimum_size: int = Field(default=1000, ge=0, le=10_000_000)
    # How long a browser keeps to https once it has seen the HSTS header.
    hsts_seconds: int = Field(default=31_536_000, ge=0, le=63_072_000)
    # The addresses of the proxies whose X-Forwarded-* headers are believed: comma-separated, or "*".
    forwarded_allow_ips: str = "127.0.0.1,::1"
    # The path prefix under which the proxy serves this API (it strips it before passing requests on).
    root_path: RootPath = ""

    @model_validator(mode="after")
    def secret_long_enough(self) -> Self:
        if len(self.secret_key.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"TRADING_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes long")
        return self

    # BEGIN SOLUTION 12.2: Refuse a CORS origin that is "*" or not scheme://host[:port]
    @field_validator("cors_origins")
    @classmethod
    def exact_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if (error := origin_error(origin)) is not None:
                raise ValueError(f"TRADING_CORS_ORIGINS: {origin!r} is {error}")
        return origins

    # STUB
    # END SOLUTION
