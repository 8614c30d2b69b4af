"""What the API and the form read, and what the API answers."""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
MAX_QUANTITY = 100_000
MAX_PRICE = Decimal("100000")
MAX_NOTE = 200
Side = Literal["buy", "sell"]
Symbol = Annotated[str, Field(pattern=r"^[A-Z]{1,5}$", examples=["AAPL"])]


class ErrorResponse(BaseModel):
    """The body of every error the API answers with, 422 aside."""

    detail: str = Field(examples=["Operation 7 not found"])


class OperationCreate(BaseModel):
    symbol: Symbol
    side: Side
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    price: Decimal = Field(gt=0, le=MAX_PRICE, decimal_places=2, examples=["189.50"])
    note: str = Field(default="", max_length=MAX_NOTE)


class OperationRead(BaseModel):
    id: int
    symbol: str
    side: Side
    quantity: int
    price: Decimal
    note: str


class Quote(BaseModel):
    symbol: str
    price: Decimal
