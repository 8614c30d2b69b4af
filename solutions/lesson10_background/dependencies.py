"""Dependencies: what the app holds for its requests (engine, Celery app, mailer, journal), a session per request."""

from collections.abc import Iterator
from typing import Annotated

from celery import Celery
from fastapi import Depends, Path, Request
from sqlalchemy import Engine
from sqlmodel import Session

from .config import Settings
from .journal import Journal
from .mail import Mailer
from .schemas import MAX_ID


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_celery(request: Request) -> Celery:
    celery: Celery = request.app.state.celery
    return celery


def get_mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def get_journal(request: Request) -> Journal:
    journal: Journal = request.app.state.journal
    return journal


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
CeleryDep = Annotated[Celery, Depends(get_celery)]
MailerDep = Annotated[Mailer, Depends(get_mailer)]
JournalDep = Annotated[Journal, Depends(get_journal)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """One session, and one transaction, per request: services flush, this dependency commits."""
    with Session(engine) as session:
        try:
            yield session
        except Exception:
            session.rollback()
            raise
        session.commit()


# scope="function": committed before the response is sent, so a background task that runs
# after the response finds what the request stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

ReportId = Annotated[int, Path(ge=1, le=MAX_ID)]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID)]
