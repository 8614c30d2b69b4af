"""The app factory: one fresh in-memory store per app instance."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import trades, users
from .store import TradingStore


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.store = TradingStore()
    yield


def create_app() -> FastAPI:
    app = FastAPI(title="Trading API", version="1.0.0", summary="Lesson 01: first endpoints", lifespan=lifespan)
    app.include_router(users.router)
    app.include_router(trades.router)
    return app


app = create_app()
