"""The blocklist: access tokens revoked before they expire, by ``jti``, kept in Redis.

A JWT is valid until its ``exp`` by itself; the only way to end one sooner is to remember that
it was revoked and ask on every request. Redis is shared by every worker and every instance of
the app, and each entry lives exactly as long as its token would have: no longer, as the token is
refused by its ``exp`` from then on; and no shorter, or the token would work again.
"""

import time

from redis import Redis

from .config import Settings


def revoked_key(settings: Settings, jti: str) -> str:
    return f"{settings.redis_prefix}revoked:{jti}"


def revoke(redis: Redis, settings: Settings, jti: str, expires_at: int) -> None:
    """Block the token ``jti`` until ``expires_at`` (its ``exp``, seconds since the epoch), when Redis forgets it."""
    # BEGIN SOLUTION 8.2: Put the token on the blocklist until it expires, and no longer
    if expires_at > time.time():  # an expired token needs no entry: its exp refuses it already
        redis.set(revoked_key(settings, jti), "1", exat=expires_at)
    # END SOLUTION


def is_revoked(redis: Redis, settings: Settings, jti: str) -> bool:
    """True if the token ``jti`` is on the blocklist."""
    # BEGIN SOLUTION 8.2: Tell whether the token is on the blocklist
    return bool(redis.exists(revoked_key(settings, jti)))
    # STUB
    # return False
    # END SOLUTION


def expires_in(redis: Redis, settings: Settings, jti: str) -> float | None:
    """Seconds until Redis forgets the entry of ``jti``: -1 if never, None if there is no entry."""
    milliseconds = redis.pttl(revoked_key(settings, jti))
    if milliseconds == -2:  # no such key
        return None
    return milliseconds / 1000 if milliseconds >= 0 else -1.0
