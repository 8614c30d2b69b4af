"""Exercise 11.2: loans, on a clock the test controls.

What the app promises (with the default settings: loans of 14 days, 25 cents a day late):

- ``POST /loans`` with a ``book_id`` and a ``borrower`` answers 201 and the loan: ``borrowed_on`` is
  today, ``due_on`` is 14 days later. When every copy of the book is out, 409.
- ``GET /loans/{id}`` shows the loan as of today: ``overdue`` is false up to and including the due date,
  true from the day after (while the copy is out); ``fee_cents`` is 25 for each day after the due date.
- ``POST /loans/{id}/return`` records the copy as back today; the copy can be lent again.

"Today" is what the ``get_today`` dependency returns: override it, and the test decides the date.
"""

from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI

from ..dependencies import get_today
from .conftest import AddBook

pytestmark = pytest.mark.anyio

FIRST_DAY = date(2024, 3, 1)


class FixedClock:
    """A clock that says whatever day the test sets: ``clock.today = ...``."""

    def __init__(self, today: date) -> None:
        self.today = today

    def __call__(self) -> date:
        return self.today


@pytest.fixture
def clock(app: FastAPI) -> Iterator[FixedClock]:
    """The app's ``get_today`` replaced by a clock set to FIRST_DAY; the override is removed after the test."""
    # BEGIN SOLUTION 11.2: Override get_today with a FixedClock in app.dependency_overrides; clear it afterwards
    fixed = FixedClock(FIRST_DAY)
    app.dependency_overrides[get_today] = fixed
    yield fixed
    app.dependency_overrides.clear()
    # END SOLUTION


async def test_a_loan_is_due_fourteen_days_later(
    client: httpx.AsyncClient, add_book: AddBook, clock: FixedClock
) -> None:
    # BEGIN SOLUTION 11.2: Borrow on FIRST_DAY: expect 201, borrowed_on FIRST_DAY and due_on 14 days later
    book = await add_book()
    response = await client.post("/loans", json={"book_id": book["id"], "borrower": "ada"})
    assert response.status_code == 201
    loan = response.json()
    assert loan["borrowed_on"] == FIRST_DAY.isoformat()
    assert loan["due_on"] == (FIRST_DAY + timedelta(days=14)).isoformat()
    # END SOLUTION


async def test_overdue_from_the_day_after_the_due_date(
    client: httpx.AsyncClient, add_book: AddBook, clock: FixedClock
) -> None:
    # BEGIN SOLUTION 11.2: Move the clock to the due date (not overdue, no fee), then one day on (overdue, 25 cents)
    book = await add_book()
    loan = (await client.post("/loans", json={"book_id": book["id"], "borrower": "ada"})).json()
    clock.today = date.fromisoformat(loan["due_on"])
    on_the_day = (await client.get(f"/loans/{loan['id']}")).json()
    assert (on_the_day["overdue"], on_the_day["fee_cents"]) == (False, 0)
    clock.today += timedelta(days=1)
    day_after = (await client.get(f"/loans/{loan['id']}")).json()
    assert (day_after["overdue"], day_after["fee_cents"]) == (True, 25)
    # END SOLUTION


async def test_the_last_copy_cannot_be_lent_twice(
    client: httpx.AsyncClient, add_book: AddBook, clock: FixedClock
) -> None:
    # BEGIN SOLUTION 11.2: A book with one copy: a second loan is 409; after the return it can be lent again
    book = await add_book(copies=1)
    first = await client.post("/loans", json={"book_id": book["id"], "borrower": "ada"})
    assert first.status_code == 201
    second = await client.post("/loans", json={"book_id": book["id"], "borrower": "grace"})
    assert second.status_code == 409
    returned = await client.post(f"/loans/{first.json()['id']}/return")
    assert returned.status_code == 200
    again = await client.post("/loans", json={"book_id": book["id"], "borrower": "grace"})
    assert again.status_code == 201
    # END SOLUTION
