"""Rate limits: a dependency of our own, counting each user's requests in Redis.

A limit allows ``limit`` requests per user in a fixed window of ``window`` seconds. The count
lives in Redis, so every process and instance of the app shares it. Once it is used up, the
request gets ``429 Too Many Requests`` and ``Retry-After``: the seconds until the window ends.

Each limit is an instance with a name of its own, and so a count of its own: the global limit
is a dependency of the API router (every API route counts), the trade limit a dependency of
one route. A route outside the API router, such as ``/health``, is exempt.
"""

import math
from collections.abc import Callable

from fastapi import HTTPException, status

from .config import Settings
from .dependencies import CurrentUser, RedisDep, SettingsDep


class RateLimit:
    """``Depends(RateLimit("trades", limit=..., window=...))``: a limit per user, read from the settings."""

    def __init__(self, name: str, limit: Callable[[Settings], int], window: Callable[[Settings], int]) -> None:
        self.name, self.limit, self.window = name, limit, window

    async def __call__(self, user: CurrentUser, redis: RedisDep, settings: SettingsDep) -> None:
        """Count this request; once the user has used up this limit in the window, refuse it with 429."""
        limit, window = self.limit(settings), self.window(settings)
        # Exercise 9.4: Count the request per limit and user in Redis; past the limit, 429 with Retry-After
        pass  # no limit yet


GLOBAL_LIMIT = RateLimit("global", lambda settings: settings.rate_limit, lambda s: s.rate_limit_window_seconds)
TRADE_LIMIT = RateLimit("trades", lambda settings: settings.trade_limit, lambda s: s.trade_limit_window_seconds)
