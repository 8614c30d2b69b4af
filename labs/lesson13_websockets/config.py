"""Settings read from the environment (prefix ``CHAT_``).

Secrets come from the environment. The default secret key is for local use: it is in this
file, so anyone can read it, and production refuses to start with it.
"""

from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources

Environment = Literal["local", "staging", "production"]

# For local use only: production refuses to start with it.
DEFAULT_SECRET_KEY = "local-only-chat-secret-key-change-me-0123456789"
MIN_SECRET_BYTES = 32  # HS256 wants a key at least as long as its 256-bit hash


def _redis_prefix() -> str:
    # The course gives each run a key prefix of its own, so parallel runs never share a channel.
    return f"{get_resources().key_prefix}chat:"


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, defaults."""

    model_config = SettingsConfigDict(env_prefix="CHAT_", extra="ignore")

    environment: Environment = "local"
    app_name: str = "Chat"
    # The course gives each run a database of its own: a SQLite file, or PostgreSQL in services mode.
    # Every instance of the app in a run shares it, as the instances of a deployed app share theirs.
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))
    # Channel names start with this: fakeredis in embedded mode, a shared Redis in services mode.
    redis_prefix: str = Field(default_factory=_redis_prefix)

    # Signing access tokens, as in lesson 07. The algorithm is pinned: decoding accepts HS256 only.
    secret_key: str = DEFAULT_SECRET_KEY
    access_token_seconds: int = Field(default=900, ge=1, le=86_400)
    # Tests only: a cheap Argon2, so that a test suite does not spend its time hashing.
    fast_password_hash: bool = False

    # How many of a room's latest messages a client gets when it joins (0: none).
    history_size: int = Field(default=20, ge=0, le=500)
    # The longest message, in characters.
    max_message_length: int = Field(default=500, ge=1, le=10_000)
    # How long one server-sent event stream lasts. Then the server ends it and the browser
    # reconnects, after sse_retry_ms, sending the id of the last event it got.
    sse_stream_seconds: float = Field(default=30, gt=0, le=3600)
    sse_retry_ms: int = Field(default=1000, ge=0, le=60_000)

    @model_validator(mode="after")
    def secret_fit_for_use(self) -> Self:
        if len(self.secret_key.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"CHAT_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes long")
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError("CHAT_SECRET_KEY is the local default: set a secret of your own in production")
        if self.environment == "production" and self.fast_password_hash:
            raise ValueError("CHAT_FAST_PASSWORD_HASH is for tests: production hashes with the recommended cost")
        return self

    @property
    def channel(self) -> str:
        """The Redis channel every instance of the app publishes chat messages on, and listens to."""
        return f"{self.redis_prefix}messages"
