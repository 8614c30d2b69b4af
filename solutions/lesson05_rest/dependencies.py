"""Dependencies shared by the routers."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlmodel import Session

from .database import Database
from .pagination import PageParams


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """One session per request. Raises ``OperationalError`` (a 503) while the database does not answer."""
    yield from database.session()


SessionDep = Annotated[Session, Depends(get_session)]
# The query parameters ``limit`` and ``offset``, read into one model.
PageDep = Annotated[PageParams, Query()]
