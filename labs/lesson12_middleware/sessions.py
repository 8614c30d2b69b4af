"""Signing in: an Argon2-hashed password, and a JWT in an HttpOnly session cookie (as in lesson 07).

The cookie is ``SameSite=Lax``: a browser sends it along with requests from pages of the same
site (another port or subdomain counts as the same site), never from other sites. Whether a
page of another *origin* may read the answer is what CORS decides.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from fastapi import Response
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from .config import Settings

SESSION_COOKIE = "trading_session"
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti"]


def make_password_hash(*, fast: bool = False) -> PasswordHash:
    """pwdlib's recommended Argon2id, or (tests only) one pass over 1 MiB."""
    if fast:
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    return PasswordHash.recommended()


def create_session_token(email: str, settings: Settings) -> str:
    issued = datetime.now(UTC)
    claims = {
        "sub": email,
        "iat": issued,
        "exp": issued + timedelta(seconds=settings.session_seconds),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)


def decode_session_token(token: str, settings: Settings) -> dict[str, Any]:
    """The claims of a token this app signed and that has not expired; ``jwt.InvalidTokenError`` otherwise."""
    return jwt.decode(token, settings.secret_key, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS})


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_seconds,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, secure=settings.cookie_secure, samesite="lax")
