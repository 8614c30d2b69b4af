"""The app factory: the settings pick where data lives; the rest of the app does not know."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .config import Settings
from .database import create_db_engine, reset_database
from .exceptions import add_exception_handlers
from .repository import MemoryStore
from .router import projects_router, tasks_router
from .unit_of_work import MemoryUnitOfWork, SqlUnitOfWork, UnitOfWork


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    make: Callable[[], UnitOfWork]
    if settings.repository == "memory":
        make = partial(MemoryUnitOfWork, MemoryStore(), history_fails=settings.history_fails)
        app.state.unit_of_work = make
        yield
        return
    engine = create_db_engine(settings.database_url)
    await run_in_threadpool(reset_database, engine)
    app.state.unit_of_work = partial(SqlUnitOfWork, engine, history_fails=settings.history_fails)
    try:
        yield
    finally:
        engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.app_name,
        version="15.0.0",
        summary="Lesson 15: a task tracker with a service layer, repositories and a unit of work",
        lifespan=lifespan,
    )
    app.state.settings = settings
    add_exception_handlers(app)
    app.include_router(projects_router)
    app.include_router(tasks_router)
    return app


app = create_app()
