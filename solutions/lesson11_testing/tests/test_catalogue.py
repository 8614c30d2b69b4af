"""Exercise 11.3: the catalogue, which the app builds once and keeps in lifespan state.

What the app promises:

- ``GET /catalogue`` answers every book, by title, with ``copies`` and ``available`` (the copies not on loan).
- It is never out of date: after a book is added, lent or returned, the next read shows it.

A test sees a stale catalogue only if it reads the catalogue BEFORE the change too: the first
read is what the app keeps.
"""

import httpx
import pytest

from .conftest import AddBook

pytestmark = pytest.mark.anyio


async def available(client: httpx.AsyncClient) -> dict[str, int]:
    """Title → copies available, as the catalogue says."""
    response = await client.get("/catalogue")
    assert response.status_code == 200
    return {entry["title"]: entry["available"] for entry in response.json()}


async def test_the_catalogue_shows_a_new_book(client: httpx.AsyncClient, add_book: AddBook) -> None:
    # BEGIN SOLUTION 11.3: Add a book, read the catalogue, add another, read again: expect both
    await add_book(title="Middlemarch", copies=2)
    assert await available(client) == {"Middlemarch": 2}
    await add_book(title="Beloved", copies=3)
    assert await available(client) == {"Beloved": 3, "Middlemarch": 2}
    # END SOLUTION


async def test_the_catalogue_follows_loans_and_returns(client: httpx.AsyncClient, add_book: AddBook) -> None:
    # BEGIN SOLUTION 11.3: Read, borrow a copy, read (one fewer), return it, read (back again)
    book = await add_book(title="Middlemarch", copies=2)
    assert await available(client) == {"Middlemarch": 2}
    loan = (await client.post("/loans", json={"book_id": book["id"], "borrower": "ada"})).json()
    assert await available(client) == {"Middlemarch": 1}
    await client.post(f"/loans/{loan['id']}/return")
    assert await available(client) == {"Middlemarch": 2}
    # END SOLUTION
