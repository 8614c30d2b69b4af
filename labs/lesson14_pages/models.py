"""The desk's operations."""

from sqlalchemy import CheckConstraint
from sqlmodel import Field

from .database import TableModel


class Operation(TableModel, table=True):
    __tablename__ = "operations"
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_operations_quantity_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    symbol: str = Field(max_length=5)
    side: str = Field(max_length=4)
    quantity: int
    # Money is counted in cents: whole numbers, exact in every database.
    price_cents: int
    # Free text a trader typed: pages must show it as text, never as HTML.
    note: str = Field(default="", max_length=200)
