"""What the API reads and answers."""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
MAX_QUANTITY = 100_000
Side = Literal["buy", "sell"]
Symbol = Annotated[str, Field(pattern=r"^[A-Z]{1,5}$", examples=["AAPL"])]


class ErrorResponse(BaseModel):
    """The body of every error this API answers with, 422 aside."""

    detail: str = Field(examples=["Operation 7 not found"])


class OperationCreate(BaseModel):
    symbol: Symbol
    side: Side
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    price: Decimal = Field(gt=0, le=Decimal("100000"), decimal_places=2, examples=["189.50"])


class OperationRead(BaseModel):
    id: int
    symbol: str
    side: Side
    quantity: int
    price: Decimal


class Quote(BaseModel):
    """The latest price of a symbol, as the market data provider serves it."""

    symbol: str
    price: Decimal


class Credentials(BaseModel):
    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=1, max_length=128)


class TraderRead(BaseModel):
    email: str
    name: str
