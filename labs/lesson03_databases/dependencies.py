"""Dependencies: the app's engine, one session per request, and a valid book id."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy import Engine
from sqlmodel import Session

# The largest id a 32-bit INTEGER column holds: a larger one in a path is a 422, not a database error.
MAX_ID = 2**31 - 1


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """One session, and one transaction, per request.

    The code after ``yield`` runs when the route is done: commit if it succeeded,
    roll back if it raised. Leaving the ``with`` block closes the session, which
    returns its connection to the engine's pool.
    """
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
