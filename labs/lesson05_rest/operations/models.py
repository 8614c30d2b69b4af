"""The operations table."""

from datetime import date
from decimal import Decimal

from sqlmodel import Field

from ..database import TableModel


class Operation(TableModel, table=True):
    __tablename__ = "operations"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - SQLAlchemy reads it; nobody changes it

    id: int | None = Field(default=None, primary_key=True)
    # An account with operations cannot be deleted: the database refuses (RESTRICT).
    account_id: int = Field(foreign_key="accounts.id", index=True, ondelete="RESTRICT")
    ticker: str = Field(max_length=12)
    side: str = Field(max_length=4)
    quantity: Decimal = Field(max_digits=15, decimal_places=6)
    price: Decimal = Field(max_digits=15, decimal_places=6)
    trade_date: date
