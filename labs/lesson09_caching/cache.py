"""Cache-aside in Redis: look in the cache first; on a miss, load, and store the result with a TTL.

Values are JSON: what a route answers, so a cached answer is served without loading anything.
Keys are built from the function that produced a value and the parameters it was called with,
so two calls share an entry exactly when they would return the same thing.
"""

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from redis.asyncio import Redis

Json = Any  # what json.loads returns: dicts, lists, strings, numbers, booleans, None
Loader = Callable[[], Awaitable[Json]]
# How often a request that waits for another one's load looks for the value.
POLL_SECONDS = 0.02


def cache_key(function: Callable[..., Any], params: Mapping[str, object]) -> str:
    """``router.read_quote:currency=EUR&symbol=AAPL``: the function's module and name, then its parameters.

    The parameters are sorted by name, so the order a client sent them in does not matter.
    """
    # Exercise 9.1: Build the key from the function's module and name, and every parameter, sorted by name
    return function.__qualname__


class RedisCache:
    """JSON values in Redis, under ``<prefix>cache:<key>``."""

    def __init__(self, redis: Redis, prefix: str, lock_seconds: float) -> None:
        self.redis, self.prefix, self.lock_seconds = redis, f"{prefix}cache:", lock_seconds

    async def get_or_load(self, key: str, ttl: int, load: Loader) -> Json:
        """The value cached under ``key``; on a miss, ``load()``'s value, stored for ``ttl`` seconds."""
        # Exercise 9.1: Return the cached value on a hit; on a miss, load it once (load_once) and return it
        return await load()  # no cache yet: every call loads

    async def store(self, key: str, ttl: int, load: Loader) -> Json:
        """Load the value and store it under ``key`` for ``ttl`` seconds."""
        value = await load()
        # Exercise 9.1: Store the value as JSON, expiring after ttl seconds
        raise NotImplementedError('Exercise 9.1: Store the value as JSON, expiring after ttl seconds')
        return value

    async def load_once(self, key: str, ttl: int, load: Loader) -> Json:
        """Load and store a missing value, one request at a time: the stampede guard.

        The request that takes the lock ``<key>:lock`` loads; the others wait until the value
        appears, and return it. If the lock goes away without a value (the load failed), the
        next request takes its turn; if the lock holder takes too long, a waiter loads itself.
        """
        # Exercise 9.5: Let one request at a time load a missing value; the others wait for it and return it
        return await self.store(key, ttl, load)  # no guard: every request that misses loads

    async def invalidate(self, key: str) -> None:
        """Forget the value under ``key``: the next request loads it afresh."""
        await self.redis.delete(self.prefix + key)
