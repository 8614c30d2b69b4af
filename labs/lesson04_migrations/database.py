"""The engine, and how to tell a missing schema from other database errors."""

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

# SQLSTATEs of PostgreSQL for "undefined table" and "undefined column".
MISSING_SCHEMA_STATES = {"42P01", "42703"}


def create_db_engine(url: str) -> Engine:
    """An engine for the app. It never creates tables: the migrations own the schema."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    # Routes are sync functions that FastAPI runs in worker threads.
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _enforce_foreign_keys)
    return engine


def _enforce_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    """SQLite checks foreign keys only when asked to, connection by connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def is_missing_schema(error: DBAPIError) -> bool:
    """True when a query failed because a table or column does not exist (yet)."""
    if getattr(error.orig, "sqlstate", None) in MISSING_SCHEMA_STATES:
        return True
    return str(error.orig).startswith(("no such table", "no such column"))
