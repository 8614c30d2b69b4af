"""The app factory: settings are read when an app is created, each app gets a fresh store."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from . import health, router
from .config import SHOW_DOCS_ENVIRONMENTS, Settings
from .store import OperationStore


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.store = OperationStore()
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # BEGIN SOLUTION 2.4: Publish the OpenAPI schema, Swagger UI and ReDoc only outside production
    docs: dict[str, Any] = {}
    if settings.environment not in SHOW_DOCS_ENVIRONMENTS:
        docs = {"openapi_url": None, "docs_url": None, "redoc_url": None}
    # STUB
    # docs: dict[str, Any] = {}
    # END SOLUTION
    app = FastAPI(
        title=settings.app_name,
        version="2.0.0",
        summary="Lesson 02: validation, response models and settings",
        lifespan=lifespan,
        **docs,
    )
    app.state.settings = settings
    app.include_router(router.router)
    app.include_router(health.router)
    return app


app = create_app()
