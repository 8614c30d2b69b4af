"""The engine, and tables that every app instance resets: the demo trader and a few operations."""

from decimal import Decimal
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import Engine, event, make_url
from sqlalchemy.orm import registry
from sqlmodel import Session, SQLModel, create_engine


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
SEED_OPERATIONS = [
    ("AAPL", "buy", 10, Decimal("189.50")),
    ("MSFT", "buy", 5, Decimal("415.20")),
    ("AAPL", "sell", 4, Decimal("191.00")),
    ("NVDA", "buy", 2, Decimal("880.00")),
    ("TSLA", "sell", 3, Decimal("175.25")),
    ("AMZN", "buy", 8, Decimal("178.10")),
]


def reset_database(engine: Engine, email: str, password: str, password_hash: PasswordHash) -> None:
    """Drop and create this app's tables, then add the demo trader and the seed operations."""
    from .models import Operation, Trader

    TableModel.metadata.drop_all(engine)
    TableModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Trader(email=email, name="Ada", hashed_password=password_hash.hash(password)))
        session.add_all(
            Operation(symbol=symbol, side=side, quantity=quantity, price_cents=int(price * 100))
            for symbol, side, quantity, price in SEED_OPERATIONS
        )
        session.commit()
