"""The engine, and a schema that every app instance resets: a fresh chat with no users and no messages."""

from typing import Any

from sqlalchemy import Engine, event, make_url
from sqlalchemy.orm import registry
from sqlmodel import SQLModel, create_engine


class TableModel(SQLModel, registry=registry()):
    """The base of this app's tables: a registry of its own, so a fresh import defines them anew."""


def create_db_engine(url: str) -> Engine:
    """One engine per app. SQLite needs its connections shared with the thread pool."""
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
    """Drop and create this app's tables. The course starts every app instance (and every check) alike;
    a real app keeps its tables, and its migrations own them (lesson 04)."""
    TableModel.metadata.drop_all(engine)
    TableModel.metadata.create_all(engine)
