"""The engine, and a schema that every app instance resets to the same starting data."""

from typing import Any

from sqlalchemy import Engine, event, make_url
from sqlmodel import Session, create_engine

from .models import TableModel
from .seed import add_seed


def create_db_engine(url: str, *, echo: bool = False, **options: Any) -> Engine:
    """An engine for ``url``: one per app, shared by all its requests, disposed at shutdown.

    SQLite needs two adjustments to behave like PostgreSQL here: its connections may be
    used by the threads FastAPI runs ``def`` routes in, and it enforces foreign keys only
    when asked to, on every connection.
    """
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, **options)
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False}, **options)
    event.listen(engine, "connect", _enforce_foreign_keys)
    return engine


def _enforce_foreign_keys(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def reset_database(engine: Engine) -> None:
    """Drop and create this app's tables, then add the starting rows.

    Every app instance of a run shares the run's database, so each one starts by
    putting it back into the same state. (Lesson 04 replaces create_all with migrations.)
    """
    TableModel.metadata.drop_all(engine)
    TableModel.metadata.create_all(engine)
    with Session(engine) as session:
        add_seed(session)
        session.commit()
