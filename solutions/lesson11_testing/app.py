"""The app factory: each app gets its own engine, fresh tables and an empty catalogue, in its lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .catalogue import Catalogue
from .config import Settings
from .database import create_db_engine, reset_database
from .exceptions import add_exception_handlers
from .router import books_router, catalogue_router, loans_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Start-up, then shutdown. What it yields is lifespan state: every request sees it in ``request.state``."""
    settings: Settings = app.state.settings
    engine = create_db_engine(settings.database_url)
    await run_in_threadpool(reset_database, engine)
    try:
        yield {"engine": engine, "catalogue": Catalogue()}
    finally:
        engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.app_name,
        version="11.0.0",
        summary="Lesson 11: a lending library, tested with pytest, an async client and dependency overrides",
        lifespan=lifespan,
    )
    app.state.settings = settings
    add_exception_handlers(app)
    app.include_router(books_router)
    app.include_router(loans_router)
    app.include_router(catalogue_router)
    return app


app = create_app()
