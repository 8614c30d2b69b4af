"""The app factory: settings, a database, the domain routers under ``/api/v1``, one error shape."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, status
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from .accounts.router import router as accounts_router
from .config import SHOW_DOCS_ENVIRONMENTS, Settings
from .database import Database
from .errors import error_responses, register_error_handlers
from .operations.router import router as operations_router
from .seed import add_seed_data

logger = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    database = Database(settings.database_url, settings.database_connect_timeout, seed=add_seed_data)
    app.state.database = database
    try:
        await run_in_threadpool(database.prepare)
    except OperationalError:
        # Serve anyway: each request answers 503 until the database is back, then prepares it.
        logger.warning("The database did not answer at start-up; requests get 503 until it does.")
    try:
        yield
    finally:
        database.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    docs: dict[str, Any] = {}
    if settings.environment not in SHOW_DOCS_ENVIRONMENTS:
        docs = {"openapi_url": None, "docs_url": None, "redoc_url": None}
    app = FastAPI(
        title=settings.app_name,
        version="5.0.0",
        summary="Lesson 05: REST design, errors and structure",
        lifespan=lifespan,
        **docs,
    )
    app.state.settings = settings
    # Every route of the API may find the database unavailable.
    api = APIRouter(prefix=API_PREFIX, responses=error_responses(status.HTTP_503_SERVICE_UNAVAILABLE))
    api.include_router(accounts_router)
    api.include_router(operations_router)
    app.include_router(api)
    register_error_handlers(app)
    return app


app = create_app()
