"""The app factory: the web pages, their static files, and the JSON API mounted under ``/api``.

Two applications, each with its own exception handlers: a page's error is an HTML page, an API
error is JSON. Only the outer app receives lifespan events, so its lifespan runs the API's.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .api import create_api
from .config import Settings
from .exceptions import add_page_error_handlers
from .pages import pages
from .templates import STATIC_DIR


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """What the lifespan yields becomes ``request.state`` of every request, pages and API alike."""
    api: FastAPI = app.state.api
    # Exercise 14.3: Run the mounted API's lifespan here: a mounted app's lifespan never runs by itself
    from .database import open_database

    async with open_database(app.state.settings.database_url) as engine:
        yield {"engine": engine}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.app_name,
        version="14.0.0",
        summary="Lesson 14: the trading desk's web pages, with its JSON API mounted under /api",
        lifespan=lifespan,
    )
    api = create_api(settings)
    app.state.settings, app.state.api = settings, api
    add_page_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Exercise 14.3: Mount the API under /api: an app of its own, whose errors stay JSON
    app.include_router(pages)
    return app


app = create_app()
