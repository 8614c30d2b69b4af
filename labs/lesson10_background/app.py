"""The app factory: each app gets its own tables, Celery app, workers, outbox and monitor."""

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI

from course.resources import get_resources

from . import deliveries, router
from .celery_app import create_celery
from .config import Settings
from .database import create_db_engine, reset_database
from .exceptions import add_exception_handlers
from .journal import Journal
from .mail import Mailer
from .monitor import run_monitor
from .workers import Workers


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = create_db_engine(settings.database_url)
    # Start-up, before the first request: a short blocking call is fine here.
    reset_database(engine)
    celery = create_celery(settings)
    outbox = settings.outbox
    if outbox is None:
        outbox = Path(tempfile.mkdtemp(prefix="outbox-", dir=get_resources().tmpdir))
    app.state.engine, app.state.celery = engine, celery
    app.state.mailer = Mailer(outbox)
    app.state.journal = Journal(get_resources().redis())
    async with AsyncExitStack() as stack:
        stack.callback(engine.dispose)
        if settings.workers:
            workers = Workers(celery, settings)
            await anyio.to_thread.run_sync(workers.start)
            stack.push_async_callback(anyio.to_thread.run_sync, workers.stop)
        monitor = asyncio.create_task(run_monitor(engine, celery, settings.monitor_interval))
        stack.push_async_callback(_cancel, monitor)
        yield


async def _cancel(task: "asyncio.Task[None]") -> None:
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.app_name,
        version="10.0.0",
        summary="Lesson 10: reports built in the background, with BackgroundTasks and Celery",
        lifespan=lifespan,
    )
    app.state.settings = settings
    add_exception_handlers(app)
    app.include_router(router.router)
    app.include_router(deliveries.router)
    return app


app = create_app()
