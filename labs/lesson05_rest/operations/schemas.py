"""What the API accepts for an operation and what it returns."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer

from ..schemas import PartialUpdate, RecordId


def plain_decimal(value: Decimal) -> str:
    """``Decimal("12.500000")`` → ``"12.5"``: the database pads to 6 places, clients need not see it."""
    return format(value.normalize(), "f")


# Up to 9 digits before the point and 6 after, as the columns hold; returned as a string, never a float.
# 15 digits in all: SQLite keeps numbers as floats, which hold 15 significant digits exactly.
Amount = Annotated[
    Decimal,
    Field(gt=0, max_digits=15, decimal_places=6, examples=["10"]),
    PlainSerializer(plain_decimal, return_type=str),
]
Side = Literal["buy", "sell"]
Ticker = Annotated[str, Field(min_length=1, max_length=12, pattern=r"^[A-Z][A-Z0-9.]*$", examples=["AAPL"])]


class OperationCreate(BaseModel):
    account_id: RecordId
    ticker: Ticker
    side: Side
    quantity: Amount
    price: Amount
    trade_date: date


class OperationRead(OperationCreate):
    id: int


class OperationUpdate(PartialUpdate):
    """A correction: the fields a PATCH may change. The account, ticker and side never change."""

    quantity: Amount | None = None
    price: Amount | None = None
    trade_date: date | None = None
