"""Settings read from the environment (prefix ``BOOKLY_``).

Secrets come from the environment. The default secret key is for local use: it is in this
file, so anyone can read it, and production refuses to start with it.
"""

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from course.resources import get_resources

Environment = Literal["local", "staging", "production"]
Algorithm = Literal["HS256", "RS256"]

# For local use only: production refuses to start with it.
DEFAULT_SECRET_KEY = "local-only-secret-key-change-me-0123456789abcdef"
MIN_SECRET_BYTES = 32  # HS256 wants a key at least as long as its 256-bit hash


class Settings(BaseSettings):
    """Precedence, highest first: arguments, environment variables, defaults."""

    model_config = SettingsConfigDict(env_prefix="BOOKLY_", extra="ignore")

    environment: Environment = "local"
    app_name: str = "Bookly"
    # The course gives each run a database of its own: a SQLite file (embedded mode)
    # or a fresh PostgreSQL database (services mode). Set BOOKLY_DATABASE_URL to use another.
    database_url: str = Field(default_factory=lambda: get_resources().database_url(__package__ or "lab"))

    # Signing access tokens. The algorithm is pinned: decoding accepts this one and no other.
    secret_key: str = DEFAULT_SECRET_KEY
    jwt_algorithm: Algorithm = "HS256"
    access_token_seconds: int = Field(default=900, ge=1, le=86_400)
    # RS256 signs with a private key and verifies with its public key, both PEM text.
    jwt_private_key: str | None = None
    jwt_public_key: str | None = None

    # Tests only: a cheap Argon2, so that a test suite does not spend its time hashing.
    fast_password_hash: bool = False
    # A file where the password hasher writes "hash" or "verify" for each operation (no passwords).
    # Unset in real use; the lesson and the checks read it to see the work that a login does.
    password_log: Path | None = None

    @model_validator(mode="after")
    def keys_fit_for_use(self) -> Self:
        if len(self.secret_key.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"BOOKLY_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes long")
        if self.jwt_algorithm == "RS256" and not (self.jwt_private_key and self.jwt_public_key):
            raise ValueError("RS256 needs BOOKLY_JWT_PRIVATE_KEY and BOOKLY_JWT_PUBLIC_KEY (PEM)")
        if self.environment == "production" and self.fast_password_hash:
            raise ValueError("BOOKLY_FAST_PASSWORD_HASH is for tests: production hashes with the recommended cost")
        return self

    # Exercise 7.2: In production, refuse to start with the default secret key

    @property
    def signing_key(self) -> str:
        """What tokens are signed with: the shared secret (HS256), or the private key (RS256)."""
        if self.jwt_algorithm == "RS256":
            return self.jwt_private_key or ""
        return self.secret_key

    @property
    def verification_key(self) -> str:
        """What signatures are checked with: the shared secret (HS256), or the public key (RS256)."""
        if self.jwt_algorithm == "RS256":
            return self.jwt_public_key or ""
        return self.secret_key
