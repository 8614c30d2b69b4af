"""The app factory. The lifespan opens and closes the engine and nothing else: creating
tables is the migrations' job (``alembic upgrade head``), never the app's."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .config import Settings
from .database import create_db_engine
from .exceptions import add_exception_handlers
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
    add_exception_handlers(app)
    app.include_router(router)
    return app


app = create_app()
