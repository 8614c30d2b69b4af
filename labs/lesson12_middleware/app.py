"""The app factory: the database, the routes, and the middleware stack, outermost last.

Starlette wraps the app in its middleware in reverse order of ``add_middleware``: the last one
added is the outermost, the first to see a request and the last to see its response.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from . import router
from .config import Settings
from .cors import cors_options
from .database import create_db_engine, reset_database
from .exceptions import add_exception_handlers
from .logs import AccessLog
from .middleware import RequestContextMiddleware, RootPathMiddleware, SecurityHeadersMiddleware
from .sessions import make_password_hash


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = create_db_engine(settings.database_url)
    password_hash = app.state.password_hash
    await run_in_threadpool(reset_database, engine, settings.demo_email, settings.demo_password, password_hash)
    # Verified against when the email is unknown: a failed sign-in costs the same either way.
    app.state.dummy_hash = await run_in_threadpool(password_hash.hash, "no-trader-has-this-password")
    app.state.engine = engine
    try:
        yield
    finally:
        engine.dispose()


def add_middleware(app: FastAPI, settings: Settings) -> None:
    """The stack, innermost first. A request passes them bottom-up; its response top-down."""
    # Exercise 12.3: Compress responses of TRADING_GZIP_MINIMUM_SIZE bytes and more
    app.add_middleware(CORSMiddleware, **cors_options(settings))
    # Exercise 12.3: Answer 400 to a Host that is not in TRADING_ALLOWED_HOSTS
    app.add_middleware(SecurityHeadersMiddleware, hsts_seconds=settings.hsts_seconds)
    # Exercise 12.4: Believe X-Forwarded-Proto only from a proxy in TRADING_FORWARDED_ALLOW_IPS
    app.add_middleware(RootPathMiddleware, root_path=settings.root_path)
    # Exercise 12.1: Add RequestContextMiddleware last: the outermost, it sees every response


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.app_name,
        version="12.0.0",
        summary="Lesson 12: a trading desk API behind middleware, CORS and security headers",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.password_hash = make_password_hash(fast=settings.fast_password_hash)
    add_exception_handlers(app)
    app.include_router(router.operations)
    app.include_router(router.market)
    app.include_router(router.auth)
    add_middleware(app, settings)
    return app


app = create_app()
