"""The app factory: settings checked first, then each app gets its own engine and freshly seeded tables."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .config import Settings
from .database import create_db_engine, reset_database
from .exceptions import add_exception_handlers
from .passwords import make_password_hash
from .router import auth_router, users_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = create_db_engine(settings.database_url)
    await run_in_threadpool(reset_database, engine)  # tables, and the roles every user row refers to
    app.state.engine = engine
    try:
        yield
    finally:
        engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    # Settings() validates the environment: a bad or missing secret stops the app here, before it serves.
    settings = settings or Settings()
    app = FastAPI(
        title=settings.app_name,
        version="7.0.0",
        summary="Lesson 07: registration, login, JWT access tokens, bearer and cookie transports",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.password_hash = make_password_hash(fast=settings.fast_password_hash, log=settings.password_log)
    add_exception_handlers(app)
    app.include_router(auth_router)
    app.include_router(users_router)
    return app


app = create_app()
