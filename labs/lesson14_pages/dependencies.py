"""Dependencies shared by the API and the pages: the session per request and the price book.

Both read what the lifespan yielded (``request.state``): the same engine serves a page and an
API call, whichever app the request reached.
"""

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session


def get_engine(request: Request) -> Engine:
    engine: Engine = request.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """One session, and one transaction, per request: services flush, this dependency commits."""
    with Session(engine) as session:
        try:
            yield session
        except Exception:
            session.rollback()
            raise
        session.commit()


def get_prices(request: Request) -> Mapping[str, Decimal]:
    """The price book the API loaded at start-up."""
    prices: Mapping[str, Decimal] = request.state.prices
    return prices


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
PricesDep = Annotated[Mapping[str, Decimal], Depends(get_prices)]
