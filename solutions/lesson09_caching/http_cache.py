"""The lab's own response cache: a dependency that fixes what fastapi-cache gets wrong.

A route declares how its answers may be cached, and gets a ``CachedRoute`` to answer with:

- ``"public"``: one entry for every user, and any cache on the way (a CDN, a proxy) may keep it;
- ``"private"``: an entry per user, and only the user's own browser may keep it;
- ``"no-store"``: never cached, not in Redis, not by any client.

The answer carries the matching ``Cache-Control``, an ``ETag``, and answers a request whose
``If-None-Match`` names the current ETag with ``304 Not Modified`` and no body.
"""

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from .cache import Json, RedisCache, cache_key
from .config import Settings
from .dependencies import CurrentUser, SettingsDep
from .models import User

Scope = Literal["public", "private", "no-store"]
# Tells the client whether the body came from the response cache (HIT) or was just made (MISS).
CACHE_STATUS_HEADER = "X-Cache"


def get_cache(request: Request) -> RedisCache:
    cache: RedisCache = request.app.state.cache
    return cache


CacheDep = Annotated[RedisCache, Depends(get_cache)]


def cache_control(scope: Scope, max_age: int) -> str:
    """The ``Cache-Control`` header of a route with this scope, whose entries live ``max_age`` seconds."""
    # BEGIN SOLUTION 9.2: public or private with max-age; no-store alone for a route that must never be kept
    if scope == "no-store":
        return "no-store"
    return f"{scope}, max-age={max_age}"
    # STUB
    # return f"max-age={max_age}"  # what fastapi-cache sends, whatever the route
    # END SOLUTION


def route_key(endpoint: Callable[..., Any], params: Mapping[str, object], owner: User | None) -> str:
    """The cache key of a route's answer: the endpoint, its parameters and, for a per-user answer, the user."""
    if owner is not None:
        params = {**params, "user": owner.id}
    return cache_key(endpoint, params)


def etag_of(body: bytes) -> str:
    """A strong ETag for this body: the same bytes always get the same tag, other bytes another one."""
    # BEGIN SOLUTION 9.3: A quoted hash of the body
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    # END SOLUTION


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag``: ``*``, or a list of tags compared weakly."""
    # BEGIN SOLUTION 9.3: True for "*" or a comma-separated list with this tag, with or without the W/ prefix
    if if_none_match is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags
    # END SOLUTION


def answer(request: Request, body: Json, headers: dict[str, str], private: bool) -> Response:
    """A 200 with the JSON body and headers; or a 304 without a body when the client has this version."""
    response = JSONResponse(body, headers=headers)
    # BEGIN SOLUTION 9.3: Add the ETag (and Vary for a per-user answer); answer 304 when If-None-Match names it
    response.headers["ETag"] = etag_of(bytes(response.body))
    if private:
        response.headers["Vary"] = "Authorization"  # the body depends on who asks
    if none_match(request.headers.get("If-None-Match"), response.headers["ETag"]):
        # A 304 repeats the headers a 200 would carry, so the client's cache stays in step; the body stays home.
        kept = ("Cache-Control", "ETag", "Vary", CACHE_STATUS_HEADER)
        return Response(
            status_code=304, headers={name: response.headers[name] for name in kept if name in response.headers}
        )
    # STUB
    # pass  # no ETag yet: every request gets the whole body
    # END SOLUTION
    return response


@dataclass
class CachedRoute:
    """What a route answers with: ``await cached.respond(load)``."""

    request: Request
    cache: RedisCache
    scope: Scope
    key: str
    ttl: int

    async def respond(self, load: Callable[[], Awaitable[BaseModel]]) -> Response:
        """The cached answer; on a miss, ``load()``'s, cached for ``ttl`` seconds (except with no-store)."""
        loaded = False

        async def load_json() -> Json:
            nonlocal loaded
            loaded = True
            return (await load()).model_dump(mode="json")

        headers = {"Cache-Control": cache_control(self.scope, self.ttl)}
        # BEGIN SOLUTION 9.2: A no-store answer is made for each request and never written to Redis
        if self.scope == "no-store":
            return answer(self.request, await load_json(), headers, private=True)
        # STUB
        # END SOLUTION
        body = await self.cache.get_or_load(self.key, self.ttl, load_json)
        headers[CACHE_STATUS_HEADER] = "MISS" if loaded else "HIT"
        return answer(self.request, body, headers, private=self.scope == "private")


class ResponseCache:
    """A dependency per caching policy: ``Depends(ResponseCache("private", ttl=...))``."""

    def __init__(self, scope: Scope, ttl: Callable[[Settings], int] = lambda settings: 0) -> None:
        self.scope, self.ttl = scope, ttl

    async def __call__(
        self, request: Request, user: CurrentUser, cache: CacheDep, settings: SettingsDep
    ) -> CachedRoute:
        endpoint = request.scope["route"].endpoint
        params = {**request.path_params, **request.query_params}
        # BEGIN SOLUTION 9.2: A private answer is cached per user: its key names the user
        owner = user if self.scope == "private" else None
        # STUB
        # owner = None  # one entry for everyone, as fastapi-cache keys it
        # END SOLUTION
        return CachedRoute(request, cache, self.scope, route_key(endpoint, params, owner), self.ttl(settings))
