"""The app factory: a database and Redis state that every app instance starts afresh, an outbox, the routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis import Redis
from starlette.concurrency import run_in_threadpool

from course.resources import get_resources

from .config import Settings
from .database import create_db_engine, reset_database
from .exceptions import add_exception_handlers
from .mail import Outbox
from .oidc import load_provider_keys
from .routers import admin, auth, books, oidc, users
from .seed import add_seed


def forget_redis_state(redis: Redis, prefix: str) -> None:
    """Delete this app's keys (families, blocklist, login failures): a new app starts with none."""
    keys = list(redis.scan_iter(match=f"{prefix}*", count=500))
    if keys:
        redis.delete(*keys)


def prepare(app: FastAPI) -> None:
    """Start-up work that blocks: run in a thread, so the event loop stays free."""
    settings: Settings = app.state.settings
    reset_database(app.state.engine, lambda session: add_seed(session, settings))
    forget_redis_state(app.state.redis, settings.redis_prefix)
    settings.outbox_dir.mkdir(parents=True, exist_ok=True)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.engine = create_db_engine(settings.database_url)
    # Routes are plain `def` functions run in a thread pool, so the Redis client is the synchronous one.
    app.state.redis = get_resources().redis()
    app.state.outbox = Outbox(settings.outbox_dir, settings.mail_sender)
    app.state.provider_keys = load_provider_keys(settings)
    await run_in_threadpool(prepare, app)
    try:
        yield
    finally:
        app.state.redis.close()
        app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.app_name,
        version="8.0.0",
        summary="Lesson 08: the token lifecycle and authorization",
        lifespan=lifespan,
    )
    app.state.settings = settings
    add_exception_handlers(app)
    for router in (auth.router, users.router, books.router, admin.router, oidc.router):
        app.include_router(router)
    return app


app = create_app()
