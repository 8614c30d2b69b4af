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
    """One session, and one transaction, per request: services flush, this dependency commits.

    The code after ``yield`` runs when the route is done: commit if it succeeded, roll back
    if it raised. Raises ``OperationalError`` (a 503) while the database does not answer.
    """
    with database.session() as session:
        try:
            yield session
        except Exception:
            session.rollback()
            raise
        session.commit()


# scope="function": the transaction ends before the response is sent, so a client never gets
# a success for a change that then failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
# The query parameters ``limit`` and ``offset``, read into one model.
PageDep = Annotated[PageParams, Query()]
