"""Access tokens: JWTs signed with PyJWT.

A token is ``header.claims.signature``, each part base64url: anyone can read the claims, and
only the holder of the key can sign them. The claims:

- ``sub``: who the token is for, the user's id as a string (PyJWT refuses any other type);
- ``iat`` and ``exp``: when it was issued and when it expires, in seconds since the epoch;
- ``jti``: an id of its own, so that one token can be told apart from another (lesson 08 revokes by it).
"""

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from .config import Settings

# Every claim a token of this app has. Decoding refuses a token without one of them.
REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti"]
# A user id: digits only, at most the largest id a 32-bit column holds.
MAX_USER_ID = 2**31 - 1
USER_ID = re.compile(r"[1-9][0-9]{0,9}")


def create_access_token(user_id: int, settings: Settings, now: datetime | None = None) -> str:
    """A signed access token for ``user_id`` that expires ``settings.access_token_seconds`` after ``now``."""
    # BEGIN SOLUTION 7.2: Sign sub (the id as a string), iat, exp and a fresh jti with the configured algorithm
    issued = now or datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "iat": issued,
        "exp": issued + timedelta(seconds=settings.access_token_seconds),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.signing_key, algorithm=settings.jwt_algorithm)
    # END SOLUTION


def decode_access_token(token: str, settings: Settings) -> dict[str, Any]:
    """The claims of a token this app signed and that has not expired; ``jwt.InvalidTokenError`` otherwise."""
    # BEGIN SOLUTION 7.3: Verify the signature with the one configured algorithm, the expiry, and every claim
    return jwt.decode(
        token,
        settings.verification_key,
        algorithms=[settings.jwt_algorithm],  # pinned: never the algorithm the token names
        options={"require": REQUIRED_CLAIMS},
    )
    # END SOLUTION


def user_id_of(claims: dict[str, Any]) -> int | None:
    """The user id in ``sub``, or None if it is not one: a token is data, however well signed."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not USER_ID.fullmatch(subject) or int(subject) > MAX_USER_ID:
        return None
    return int(subject)
