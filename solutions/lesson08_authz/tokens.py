"""Our own tokens: short-lived access tokens and long-lived refresh tokens, both JWTs signed with the secret key.

Claims: ``sub`` (the user id, a string), ``iat`` and ``exp`` (whole seconds), ``jti`` (a random id,
so a single token can be revoked), ``type`` (``access`` or ``refresh``, so one never passes for the
other) and ``scope`` (space-separated). A refresh token also names its ``family``: the chain of
refresh tokens that one login started.
"""

import time
import uuid
from typing import Literal

import jwt
from pydantic import BaseModel, Field, ValidationError

from .config import Settings
from .exceptions import NotAuthenticated

TokenType = Literal["access", "refresh"]
# What a client may ask for at login. A token carries some of them; each route says which it needs.
SCOPES = {
    "profile": "Read your own account",
    "books:write": "Add books to the catalogue, and delete them as an admin",
}
INVALID = "Could not validate credentials"


class Claims(BaseModel):
    """The claims of a token whose signature, algorithm and expiry have been checked."""

    sub: str = Field(pattern=r"^[1-9][0-9]{0,8}$")  # a user id: digits, within the range of the id column
    iat: int
    exp: int
    jti: str = Field(min_length=1, max_length=64)
    type: TokenType
    scope: str = ""
    family: str | None = Field(default=None, max_length=64)

    @property
    def user_id(self) -> int:
        return int(self.sub)

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()


def new_token_id() -> str:
    return uuid.uuid4().hex


def create_token(
    settings: Settings,
    *,
    user_id: int,
    token_type: TokenType,
    scopes: list[str],
    jti: str | None = None,
    family: str | None = None,
) -> str:
    """A signed token for ``user_id`` that lives the lifetime the settings give its type."""
    lifetime = settings.access_token_seconds if token_type == "access" else settings.refresh_token_seconds
    issued_at = int(time.time())
    claims: dict[str, object] = {
        "sub": str(user_id),
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "jti": jti or new_token_id(),
        "type": token_type,
        "scope": " ".join(scopes),
    }
    if family is not None:
        claims["family"] = family
    return jwt.encode(claims, settings.secret_key, algorithm=settings.jwt_algorithm)


def decode_token(settings: Settings, token: str, expected_type: TokenType) -> Claims:
    """The claims of a valid token of ``expected_type``; NotAuthenticated (401) for anything else.

    ``algorithms`` is pinned: a token that names another algorithm, ``none`` included, is refused.
    """
    try:
        payload = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[settings.jwt_algorithm],
            options={"require": ["sub", "iat", "exp", "jti"]},
        )
        claims = Claims.model_validate(payload)
    except (jwt.InvalidTokenError, ValidationError):
        raise NotAuthenticated(INVALID) from None
    if claims.type != expected_type or (expected_type == "refresh" and claims.family is None):
        raise NotAuthenticated(INVALID)
    return claims
