"""The app factory: settings per environment, a lifespan that opens and closes the pools, metrics.

In production a server runs several worker processes of this app (``serve.py``); each one
runs the factory and the lifespan for itself, with its own pools.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis
from starlette.concurrency import run_in_threadpool

from course.resources import get_resources

from . import router
from .config import Settings
from .database import create_db_engine, create_tables
from .exceptions import add_exception_handlers
from .metrics import Metrics, MetricsMiddleware
from .service import ViewCounter


def open_redis(settings: Settings) -> Redis:
    """The course's Redis when STORE_REDIS_URL is unset; else that one, with time limits on every call."""
    if settings.redis_url is None:
        return get_resources().async_redis()
    seconds = settings.health_timeout_seconds
    return Redis.from_url(settings.redis_url, socket_connect_timeout=seconds, socket_timeout=seconds)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the pools before the first request; close them after the last one has been answered."""
    settings: Settings = app.state.settings
    app.state.metrics.worker_start()
    engine = create_db_engine(settings.database_url)
    if settings.create_tables:
        await run_in_threadpool(create_tables, engine)
    redis = open_redis(settings)
    app.state.engine, app.state.redis = engine, redis
    app.state.views = ViewCounter(redis, settings.redis_prefix)
    try:
        yield
    finally:
        # The server stops taking requests and lets those in flight finish, then runs this.
        await redis.aclose()
        engine.dispose()
        app.state.metrics.worker_exit()
        app.state.metrics.worker_stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # Exercise 16.2: No docs and no OpenAPI schema in production
    docs: dict[str, None] = {}
    app = FastAPI(
        title=settings.app_name,
        version="16.0.0",
        summary="Lesson 16: a storefront API ready for production",
        lifespan=lifespan,
        **docs,  # type: ignore[arg-type]
    )
    app.state.settings = settings
    app.state.metrics = Metrics(settings.metrics_dir)
    add_exception_handlers(app)
    app.include_router(router.products)
    app.include_router(router.reports)
    app.include_router(router.operations)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
