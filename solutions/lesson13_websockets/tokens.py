"""Access tokens: JWTs signed with PyJWT, as in lesson 07.

The claims: ``sub`` (the user's id, as a string), ``iat`` and ``exp`` (seconds since the epoch)
and ``jti`` (an id of its own). Decoding pins the algorithm, enforces the expiry and requires
every claim.
"""

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from .config import Settings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti"]
USER_ID = re.compile(r"[1-9][0-9]{0,9}")
MAX_USER_ID = 2**31 - 1


def create_access_token(user_id: int, settings: Settings) -> str:
    """A signed access token for ``user_id`` that expires ``settings.access_token_seconds`` from now."""
    issued = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "iat": issued,
        "exp": issued + timedelta(seconds=settings.access_token_seconds),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)


def decode_access_token(token: str, settings: Settings) -> dict[str, Any]:
    """The claims of a token this app signed and that has not expired; ``jwt.InvalidTokenError`` otherwise."""
    return jwt.decode(token, settings.secret_key, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS})


def user_id_of(claims: dict[str, Any]) -> int | None:
    """The user id in ``sub``, or None if it is not one."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not USER_ID.fullmatch(subject) or int(subject) > MAX_USER_ID:
        return None
    return int(subject)
