"""What the API accepts and returns."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Free text without NUL: PostgreSQL refuses it where SQLite stores it, so refuse it in both.
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00]*$")]
MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL: a larger one names nothing, and is refused
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A library owns 1 to 10 copies of a book: both ends are allowed.
Copies = Annotated[int, Field(ge=1, le=10, examples=[3])]


class BookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    author: Name
    copies: Copies = 1


class BookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    author: str
    copies: int


class LoanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    book_id: Id
    borrower: Name


class LoanRead(BaseModel):
    """A loan as of today: ``overdue`` and ``fee_cents`` depend on the date the app is asked on."""

    id: int
    book_id: int
    borrower: str
    borrowed_on: date
    due_on: date
    returned_on: date | None
    overdue: bool
    fee_cents: int


class CatalogueEntry(BaseModel):
    id: int
    title: str
    author: str
    copies: int
    available: int  # copies not on loan right now
