"""Dependencies shared by the routes."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from .database import session_for


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, closed (and rolled back if not committed) when it ends."""
    yield from session_for(request.app.state.engine)


SessionDep = Annotated[Session, Depends(get_session)]
