"""The engine, the tables, and the demo products every new database starts with."""

from typing import Any

from sqlalchemy import Engine, event, make_url, text
from sqlalchemy.orm import registry
from sqlmodel import Session, SQLModel, create_engine, select


class TableModel(SQLModel, registry=registry()):
    """The base of this app's tables: a registry of its own, so the app creates exactly these."""


def create_db_engine(url: str) -> Engine:
    """One engine per process: a pool of connections, checked before use."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_timeout=5)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _enforce_foreign_keys)
    return engine


def _enforce_foreign_keys(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


SEED_PRODUCTS = [
    ("Espresso cup", 850),
    ("Pour-over kettle", 4_900),
    ("Burr grinder", 12_900),
    ("Paper filters (100)", 450),
]


def create_tables(engine: Engine) -> None:
    """Create the tables if they are missing, and add the demo products to an empty catalogue."""
    from .models import Product

    TableModel.metadata.create_all(engine)
    with Session(engine) as session:
        if session.exec(select(Product)).first() is None:
            session.add_all(Product(name=name, price_cents=price) for name, price in SEED_PRODUCTS)
            session.commit()


def ping_database(engine: Engine) -> None:
    """Run ``SELECT 1``: raises if the database cannot be reached."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
