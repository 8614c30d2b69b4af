"""The engine, and a schema that every app instance resets: tables created, roles seeded."""

from typing import Any

from sqlalchemy import Engine, event, make_url
from sqlmodel import Session, create_engine, select

from .models import ROLES, Role, TableModel


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


def seed_roles(session: Session) -> None:
    """Add the roles that are missing. Safe to run at every start-up: a role already there is kept.

    Every user row names its role, so with an empty ``roles`` table nobody could register.
    """
    stored = set(session.exec(select(Role.name)))
    session.add_all(Role(name=name, description=text) for name, text in ROLES.items() if name not in stored)
    session.flush()


def reset_database(engine: Engine) -> None:
    """Drop and create this app's tables, then seed the roles: every app instance starts with no users.

    The course resets the database of each app instance, so that checks and lessons start alike;
    a real app would keep its tables and still run ``seed_roles`` at start-up (or in a migration).
    """
    TableModel.metadata.drop_all(engine)
    TableModel.metadata.create_all(engine)
    with Session(engine) as session:
        seed_roles(session)
        session.commit()
