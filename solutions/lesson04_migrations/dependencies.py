"""Dependencies: the app's engine and one session, one transaction, per request."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy import Engine
from sqlmodel import Session

from .schemas import MAX_ID


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """Commit when the route returns, roll back when it raises: one request is one transaction."""
    with Session(engine) as session:
        try:
            yield session
        except Exception:
            session.rollback()
            raise
        session.commit()


# scope="function": the session ends before the response is sent, so a client never gets
# a success for a transaction that then failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

BookId = Annotated[int, Path(ge=1, le=MAX_ID)]
