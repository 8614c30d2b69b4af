"""The app factory: a database, Redis and a market that every app instance starts afresh, and the routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from redis.asyncio import Redis
from starlette.concurrency import run_in_threadpool

from course.resources import get_resources

from . import router
from .cache import RedisCache
from .config import Settings
from .database import create_db_engine, reset_database
from .exceptions import add_exception_handlers
from .market import MarketData
from .ratelimit import GLOBAL_LIMIT
from .seed import add_seed


async def forget_redis_state(redis: Redis, prefix: str) -> None:
    """Delete this app's keys (cache entries, counters, ticks): a new app starts with none."""
    keys = [key async for key in redis.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await redis.delete(*keys)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.engine = create_db_engine(settings.database_url)
    # fakeredis in embedded mode, the run's Redis in services mode: the same asyncio client either way.
    app.state.redis = redis = get_resources().async_redis()
    app.state.cache = RedisCache(redis, settings.redis_prefix, settings.cache_lock_seconds)
    app.state.market = MarketData(redis, settings.redis_prefix, settings.provider_delay_seconds)
    await run_in_threadpool(reset_database, app.state.engine, add_seed)
    await forget_redis_state(redis, settings.redis_prefix)
    try:
        yield
    finally:
        await redis.aclose()
        app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.app_name,
        version="9.0.0",
        summary="Lesson 09: caching with Redis and HTTP, and rate limits",
        lifespan=lifespan,
    )
    app.state.settings = settings
    add_exception_handlers(app)
    # The global limit counts every request to the API; /health, in another router, is exempt.
    app.include_router(router.api, dependencies=[Depends(GLOBAL_LIMIT)])
    app.include_router(router.public)
    return app


app = create_app()
