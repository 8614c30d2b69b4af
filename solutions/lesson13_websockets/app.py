"""The app factory: each app instance gets its own engine, chat manager and Redis subscription."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from course.resources import get_resources

from .config import Settings
from .database import create_db_engine, reset_database
from .exceptions import add_exception_handlers
from .manager import ChatManager
from .passwords import make_password_hash
from .router import auth_router, chat_router, rooms_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = create_db_engine(settings.database_url)
    await run_in_threadpool(reset_database, engine)
    # fakeredis in embedded mode, the run's Redis in services mode: the same asyncio client either way.
    redis = get_resources().async_redis()
    manager = ChatManager(engine, redis, settings.channel, settings.history_size)
    await manager.start()  # subscribed before the first client connects
    app.state.engine, app.state.manager = engine, manager
    try:
        yield
    finally:
        await manager.stop()
        await redis.aclose()
        engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    # Settings() validates the environment: a short or default secret stops the app here, before it serves.
    settings = settings or Settings()
    app = FastAPI(
        title=settings.app_name,
        version="13.0.0",
        summary="Lesson 13: a chat over WebSockets, across instances through Redis, and server-sent events",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.password_hash = make_password_hash(fast=settings.fast_password_hash)
    add_exception_handlers(app)
    app.include_router(auth_router)
    app.include_router(rooms_router)
    app.include_router(chat_router)
    return app


app = create_app()
