"""Fixtures every test here shares: a fresh app on a database of its own, a client that runs its lifespan.

pytest finds fixtures by name: a test that takes ``client`` gets the one below, made anew for
that test and closed after it. Async tests run on anyio's pytest plugin: each module marks its
tests with ``pytest.mark.anyio``, and ``anyio_backend`` below picks asyncio for them.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from ..app import create_app
from ..config import Settings

AddBook = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """A new app whose database is a new SQLite file: no test sees another test's books."""
    # BEGIN SOLUTION 11.1: Create the app with Settings whose database_url is a SQLite file in tmp_path
    return create_app(Settings(database_url=f"sqlite:///{tmp_path / 'library.db'}"))
    # END SOLUTION


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An AsyncClient that calls ``app`` in-process, with the app's lifespan running around the test."""
    # BEGIN SOLUTION 11.1: Run the lifespan with LifespanManager; yield an AsyncClient on ASGITransport(manager.app)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    # END SOLUTION


@pytest.fixture
def add_book(client: httpx.AsyncClient) -> AddBook:
    """A factory: ``await add_book(copies=2)`` adds a book (defaults for what you leave out) and returns it."""

    async def add(**fields: Any) -> dict[str, Any]:
        book = {"title": "Dune", "author": "Frank Herbert", "copies": 1, **fields}
        response = (await client.post("/books", json=book)).raise_for_status()
        created: dict[str, Any] = response.json()
        return created

    return add
