"""Dependencies: settings, the session, the catalogue, and the clock.

The engine and the catalogue are lifespan state: the lifespan creates them when the app
starts, and a request finds them in ``request.state``. An app whose lifespan never ran has
neither, which is why a test client must run it.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from .catalogue import AFTER_COMMIT, Catalogue
from .config import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.state.engine  # created by the lifespan
    return engine


def get_catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = request.state.catalogue  # created by the lifespan
    return catalogue


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """One session, and one transaction, per request: services flush, this dependency commits.

    Once committed, it runs what the request asked to run after the commit (the catalogue forgets).
    """
    with Session(engine) as session:
        try:
            yield session
        except Exception:
            session.rollback()
            raise
        session.commit()
        for callback in session.info.pop(AFTER_COMMIT, []):
            callback()


def get_today() -> date:
    """Today's date in UTC: the clock every loan is dated by. Tests replace it with a fixed day."""
    return datetime.now(UTC).date()


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the transaction ends before the response is sent.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
TodayDep = Annotated[date, Depends(get_today)]
