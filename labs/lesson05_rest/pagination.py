"""Collections are returned one page at a time, with the total a client needs to page through them."""

from typing import Generic, TypeVar

from pydantic import BaseModel, Field
from sqlmodel import Session, func, select
from sqlmodel.sql.expression import SelectOfScalar

from .schemas import MAX_ID

Item = TypeVar("Item")
MAX_LIMIT = 100
# No table here holds more records than an id can count, so no client needs to skip more.
MAX_OFFSET = MAX_ID


class PageParams(BaseModel):
    """Which slice of a collection to return: the query parameters ``limit`` and ``offset``."""

    # Exercise 5.2: limit is 1 to 100 (default 20) and offset 0 or more; anything else is a 422
    limit: int = 20
    offset: int = 0


class Page(BaseModel, Generic[Item]):
    """One page of a collection."""

    items: list[Item]
    total: int = Field(description="How many records match, on all pages together")
    limit: int
    offset: int


def paginate(session: Session, statement: SelectOfScalar[Item], params: PageParams) -> Page[Item]:
    """The page of ``statement``'s rows that ``params`` selects, in the statement's order, and their total."""
    # Exercise 5.2: Count every row the statement matches, then fetch only the page that limit and offset select
    raise NotImplementedError('Exercise 5.2: Count every row the statement matches, then fetch only the page that limit and offset select')
