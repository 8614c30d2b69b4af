"""The database of one app: its engine, its tables, and the sessions the routes use.

Every table model derives from ``TableModel``, whose registry belongs to this module.
Importing the lab afresh (as ``lab()`` does) therefore defines the tables afresh,
instead of clashing with the classes of the previous import.
"""

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import registry
from sqlmodel import Session, SQLModel, create_engine


class TableModel(SQLModel, registry=registry()):
    """Base of the table models of this app."""


def _enforce_foreign_keys(connection: Any, _record: Any) -> None:
    """SQLite checks foreign keys only when asked to, once per connection; PostgreSQL always does."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def make_engine(url: str, connect_timeout: int) -> Engine:
    """An engine for ``url``. Nothing connects until the first query."""
    if make_url(url).get_backend_name() == "sqlite":
        # Sync routes run in a thread pool, so a connection may be used by several threads.
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _enforce_foreign_keys)
        return engine
    return create_engine(url, connect_args={"connect_timeout": connect_timeout}, pool_pre_ping=True)


class Database:
    """The engine of one app, and a schema that is reset once, when the database first answers."""

    def __init__(self, url: str, connect_timeout: int, seed: Callable[[Session], None]) -> None:
        self.engine = make_engine(url, connect_timeout)
        self._seed = seed
        self._ready = False
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Drop and create the tables, then add the starting records: every app starts from the same data.

        Runs once per app. Raises ``sqlalchemy.exc.OperationalError`` while the database does not answer,
        so that the next request tries again.
        """
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            TableModel.metadata.drop_all(self.engine)
            TableModel.metadata.create_all(self.engine)
            with Session(self.engine) as session:
                self._seed(session)
                session.commit()
            self._ready = True

    def session(self) -> Session:
        """A new session on this database, once its tables are ready."""
        self.prepare()
        return Session(self.engine)

    def close(self) -> None:
        self.engine.dispose()
