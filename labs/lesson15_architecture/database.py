"""The engine, and a schema that every app instance resets."""

from typing import Any

from sqlalchemy import Engine, event, make_url
from sqlmodel import create_engine

from .models import TableModel


def create_db_engine(url: str) -> Engine:
    """One engine per app. SQLite needs foreign keys switched on and connections shared with the thread pool."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _enforce_foreign_keys)
    return engine


def _enforce_foreign_keys(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def reset_database(engine: Engine) -> None:
    """Drop and create this app's tables: every app instance starts with no projects.

    The course resets the database of each app instance, so that checks and lessons start alike;
    a real app keeps its tables and changes them with migrations (lesson 04).
    """
    TableModel.metadata.drop_all(engine)
    TableModel.metadata.create_all(engine)
