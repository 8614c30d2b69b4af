"""The engine, opened and closed with the app, and the desk's book as every app instance starts it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, event, make_url
from sqlalchemy.orm import registry
from sqlmodel import Session, SQLModel, create_engine
from starlette.concurrency import run_in_threadpool


class TableModel(SQLModel, registry=registry()):
    """The base of this app's tables: a registry of its own, so the app creates and drops exactly these."""


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


# The desk's book at start-up: the same rows in every app instance, so lessons and checks start alike.
# The third note is what a careless page would run as a script: the pages must show it as text.
SEED_OPERATIONS = [
    ("AAPL", "buy", 10, Decimal("189.50"), "Opening position"),
    ("MSFT", "buy", 5, Decimal("415.20"), ""),
    ("NVDA", "sell", 2, Decimal("880.00"), '<script>alert("owned")</script>'),
    ("TSLA", "buy", 3, Decimal("175.25"), "Tom & Jerry's <b>bold</b> idea"),
]


def reset_database(engine: Engine) -> None:
    """Drop and create this app's tables, then add the seed operations."""
    from .models import Operation

    TableModel.metadata.drop_all(engine)
    TableModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(
            Operation(symbol=symbol, side=side, quantity=quantity, price_cents=int(price * 100), note=note)
            for symbol, side, quantity, price, note in SEED_OPERATIONS
        )
        session.commit()


@asynccontextmanager
async def open_database(url: str) -> AsyncIterator[Engine]:
    """The engine of ``url``, its tables freshly seeded; disposed of on the way out."""
    engine = create_db_engine(url)
    await run_in_threadpool(reset_database, engine)
    try:
        yield engine
    finally:
        engine.dispose()
