"""The app factory: each app gets its own engine and outbox, and starts from freshly seeded tables."""

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, status

from course.resources import get_resources

from . import customers, router
from .config import Settings
from .database import create_db_engine, reset_database
from .dependencies import refuse_writes_in_maintenance
from .exceptions import add_exception_handlers, error_responses
from .seed import add_seed
from .tracing import TraceResponses, tracing


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = create_db_engine(settings.database_url)
    # Start-up, before the first request: a short blocking call is fine here.
    reset_database(engine, add_seed)
    outbox_dir = settings.outbox_dir or Path(tempfile.mkdtemp(prefix="outbox-", dir=get_resources().tmpdir))
    outbox_dir.mkdir(parents=True, exist_ok=True)
    app.state.engine, app.state.outbox_dir = engine, outbox_dir
    with tracing(settings.trace):
        try:
            yield
        finally:
            engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.app_name,
        version="6.0.0",
        summary="Lesson 06: dependencies that identify, guard, meter and mail",
        lifespan=lifespan,
        # App-level: runs before every route, in every router the app includes.
        dependencies=[Depends(refuse_writes_in_maintenance)],
        responses=error_responses(status.HTTP_503_SERVICE_UNAVAILABLE),
    )
    app.state.settings = settings
    add_exception_handlers(app)
    app.include_router(router.router)
    app.include_router(customers.router)
    if settings.trace:
        app.add_middleware(TraceResponses)
    return app


app = create_app()
