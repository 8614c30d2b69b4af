"""Settings read from the environment (prefix ``BOOKLY_``).

Every lifetime is a setting, so a check can give the app tokens that expire within a second.
"""

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources

Environment = Literal["local", "staging", "production"]

# For local use only: production refuses to start with it.
DEFAULT_SECRET_KEY = "local-only-secret-key-change-me-0123456789abcdef"
MIN_SECRET_BYTES = 32  # HS256 wants a key at least as long as its 256-bit hash


def _outbox_dir() -> Path:
    return get_resources().tmpdir / "lesson08-outbox"


def _redis_prefix() -> str:
    # The course gives each run a key prefix of its own, so parallel runs never share keys.
    return f"{get_resources().key_prefix}bookly:"


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, defaults."""

    model_config = SettingsConfigDict(env_prefix="BOOKLY_", extra="ignore")

    environment: Environment = "local"
    app_name: str = "Bookly"
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))
    redis_prefix: str = Field(default_factory=_redis_prefix)

    # Signing our own tokens. The algorithm is pinned: decoding accepts this one and no other.
    secret_key: str = DEFAULT_SECRET_KEY
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_seconds: int = Field(default=300, ge=1, le=86_400)
    refresh_token_seconds: int = Field(default=7 * 86_400, ge=1, le=90 * 86_400)

    # Links sent by mail: verify an address, reset a password.
    email_token_seconds: int = Field(default=3600, ge=1, le=7 * 86_400)
    frontend_url: str = "http://localhost:3000"
    outbox_dir: Path = Field(default_factory=_outbox_dir)
    mail_sender: str = "Bookly <no-reply@bookly.example>"

    # Failed logins allowed per email address within one window, then 429 until the window ends.
    login_attempts: int = Field(default=5, ge=1, le=1000)
    login_window_seconds: int = Field(default=300, ge=1, le=86_400)

    # Delegated identity: tokens of an OpenID Connect provider, checked against its public keys (a JWKS).
    oidc_issuer: str = "https://id.bookly.example/realms/bookly"
    oidc_audience: str = "bookly-api"
    oidc_jwks: str = ""  # the JWKS document as JSON; empty: provider tokens are refused

    # Tests only: a cheap Argon2 (passwords.py), so that a test suite does not spend its time hashing.
    fast_password_hash: bool = False

    @model_validator(mode="after")
    def secret_fit_for_use(self) -> Self:
        if len(self.secret_key.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"BOOKLY_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes long")
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError("BOOKLY_SECRET_KEY is the local default: set a secret of your own in production")
        if self.environment == "production" and self.fast_password_hash:
            raise ValueError("BOOKLY_FAST_PASSWORD_HASH is for tests: production hashes with the recommended cost")
        return self
