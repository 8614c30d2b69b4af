"""Refresh-token families, kept in Redis: one family per login, one valid refresh token per family.

A login starts a family and stores the ``jti`` of its refresh token under the family's key. Each
refresh hands out the next token of the family and stores its ``jti`` instead: rotation. An older
token of the family can then only come from a copy, the user's or a thief's, and nobody can tell
which: presenting one ends the whole family, so both have to sign in again.

Another login, on another device, starts another family: devices never get in each other's way.
"""

from redis import Redis

from .config import Settings


def family_key(settings: Settings, family: str) -> str:
    return f"{settings.redis_prefix}family:{family}"


def start_family(redis: Redis, settings: Settings, family: str, jti: str) -> None:
    """A new family whose valid refresh token is ``jti``. Redis forgets it when that token would expire."""
    redis.set(family_key(settings, family), jti, ex=settings.refresh_token_seconds)


def rotate(redis: Redis, settings: Settings, family: str, presented_jti: str, next_jti: str) -> bool:
    """Make ``next_jti`` the family's valid token if ``presented_jti`` is the valid one now; True if so.

    False if the family has ended (logout, reuse, expiry); and if ``presented_jti`` was rotated
    already, end the family first: a used refresh token is being replayed.
    """
    # Exercise 8.1: Rotate the family's token, or end the family when an older token is presented
    # For now any refresh token of a family that has not ended is accepted, again and again.
    return bool(redis.exists(family_key(settings, family)))


def end_family(redis: Redis, settings: Settings, family: str) -> None:
    """No token of this family refreshes any more."""
    redis.delete(family_key(settings, family))
