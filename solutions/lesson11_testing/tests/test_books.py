"""Exercise 11.1: the books API, through the ``client`` fixture.

What the app promises:

- ``POST /books`` with a title, an author and 1 to 10 copies answers 201 and the new book, with its id;
  0 copies, or 11, is refused with 422.
- ``GET /books/{id}`` answers 200 and that book; for an id no book has, 404 with a ``detail``.
"""

import httpx
import pytest

from .conftest import AddBook

pytestmark = pytest.mark.anyio


async def test_add_book_answers_201_and_the_book(client: httpx.AsyncClient) -> None:
    # BEGIN SOLUTION 11.1: POST a book: expect 201, and the book you sent with an id
    sent = {"title": "Emma", "author": "Jane Austen", "copies": 2}
    response = await client.post("/books", json=sent)
    assert response.status_code == 201
    book = response.json()
    assert isinstance(book["id"], int)
    assert {key: book[key] for key in sent} == sent
    # END SOLUTION


async def test_read_a_book_back(client: httpx.AsyncClient, add_book: AddBook) -> None:
    # BEGIN SOLUTION 11.1: Add a book with the add_book factory, then GET it: expect 200 and the same book
    book = await add_book(title="Persuasion")
    response = await client.get(f"/books/{book['id']}")
    assert response.status_code == 200
    assert response.json() == book
    # END SOLUTION


async def test_a_missing_book_is_404(client: httpx.AsyncClient) -> None:
    # BEGIN SOLUTION 11.1: GET a book that does not exist: expect 404 and a detail
    response = await client.get("/books/999")
    assert response.status_code == 404
    assert response.json()["detail"]
    # END SOLUTION


@pytest.mark.parametrize("copies", [1, 10])
async def test_copies_within_the_bounds_are_accepted(client: httpx.AsyncClient, copies: int) -> None:
    # BEGIN SOLUTION 11.1: Both ends of the bound are allowed: expect 201 and the copies stored
    response = await client.post("/books", json={"title": "Ulysses", "author": "James Joyce", "copies": copies})
    assert response.status_code == 201
    assert response.json()["copies"] == copies
    # END SOLUTION


@pytest.mark.parametrize("copies", [0, 11])
async def test_copies_outside_the_bounds_are_refused(client: httpx.AsyncClient, copies: int) -> None:
    # BEGIN SOLUTION 11.1: Just outside each end: expect 422, and no book stored
    response = await client.post("/books", json={"title": "Ulysses", "author": "James Joyce", "copies": copies})
    assert response.status_code == 422
    assert (await client.get("/books")).json() == []
    # END SOLUTION
