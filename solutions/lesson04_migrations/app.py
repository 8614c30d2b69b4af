"""The app factory. The lifespan opens and closes the engine and nothing else: creating
tables is the migrations' job (``alembic upgrade head``), never the app's."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.exc import OperationalError, ProgrammingError

from .config import Settings
from .database import create_db_engine
from .exceptions import database_error
from .router import router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_db_engine(app.state.settings.database_url)
    app.state.engine = engine
    try:
        yield
    finally:
        engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.app_name,
        version="4.0.0",
        summary="Lesson 04: a schema that migrations own",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(router)
    # SQLite reports a missing table as OperationalError, PostgreSQL as ProgrammingError.
    app.add_exception_handler(OperationalError, database_error)
    app.add_exception_handler(ProgrammingError, database_error)
    return app


app = create_app()
