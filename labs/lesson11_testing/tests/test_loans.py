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
    # Exercise 11.2: Override get_today with a FixedClock in app.dependency_overrides; clear it afterwards
    raise NotImplementedError('Exercise 11.2: Override get_today with a FixedClock in app.dependency_overrides; clear it afterwards')


async def test_a_loan_is_due_fourteen_days_later(
    client: httpx.AsyncClient, add_book: AddBook, clock: FixedClock
) -> None:
    # Exercise 11.2: Borrow on FIRST_DAY: expect 201, borrowed_on FIRST_DAY and due_on 14 days later
    raise NotImplementedError('Exercise 11.2: Borrow on FIRST_DAY: expect 201, borrowed_on FIRST_DAY and due_on 14 days later')


async def test_overdue_from_the_day_after_the_due_date(
    client: httpx.AsyncClient, add_book: AddBook, clock: FixedClock
) -> None:
    # Exercise 11.2: Move the clock to the due date (not overdue, no fee), then one day on (overdue, 25 cents)
    raise NotImplementedError('Exercise 11.2: Move the clock to the due date (not overdue, no fee), then one day on (overdue, 25 cents)')


async def test_the_last_copy_cannot_be_lent_twice(
    client: httpx.AsyncClient, add_book: AddBook, clock: FixedClock
) -> None:
    # Exercise 11.2: A book with one copy: a second loan is 409; after the return it can be lent again
    raise NotImplementedError('Exercise 11.2: A book with one copy: a second loan is 409; after the return it can be lent again')
