"""The app factory: each app gets its own engine, and starts from freshly seeded tables."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import router, tags
from .config import Settings
from .database import create_db_engine, reset_database
from .exceptions import add_exception_handlers


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = create_db_engine(settings.database_url, echo=settings.echo_sql)
    # Start-up, before the first request: a short blocking call is fine here.
    reset_database(engine)
    app.state.engine = engine
    try:
        yield
    finally:
        # Close the pooled connections, so that nothing holds the database after shutdown.
        engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.app_name,
        version="3.0.0",
        summary="Lesson 03: books, reviews and tags in a database, with SQLModel",
        lifespan=lifespan,
    )
    app.state.settings = settings
    add_exception_handlers(app)
    app.include_router(router.router)
    app.include_router(tags.router)
    return app


app = create_app()
