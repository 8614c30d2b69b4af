"""The tables: traders, the positions they hold, and the trades they make."""

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field

from .database import TableModel


class User(TableModel, table=True):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("cash_cents >= 0", name="ck_users_cash_not_negative"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    # The API key the trader sends as a bearer token: a stand-in for real authentication (lesson 07).
    api_key: str = Field(max_length=64, unique=True)
    iban: str = Field(max_length=34)
    # Money is counted in cents: whole numbers, exact in every database.
    cash_cents: int = 0


class Position(TableModel, table=True):
    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("user_id", "symbol", name="uq_positions_user_id_symbol"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    symbol: str = Field(max_length=5)
    quantity: int


class Trade(TableModel, table=True):
    __tablename__ = "trades"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    symbol: str = Field(max_length=5)
    side: str = Field(max_length=4)
    quantity: int
    price_cents: int
