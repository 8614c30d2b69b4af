"""What the API reads and answers."""

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, Field

Currency = Literal["USD", "EUR", "GBP"]
Side = Literal["buy", "sell"]
# A ticker symbol as the exchanges write it: one to five capital letters.
Symbol = Annotated[str, Path(pattern=r"^[A-Z]{1,5}$", description="A ticker symbol, such as AAPL")]
MAX_QUANTITY = 100_000
MAX_PRICE = Decimal("100000")


class ErrorResponse(BaseModel):
    """The body of every error this API answers with."""

    detail: str = Field(examples=["No quotes for symbol ZZZZ"])


class Quote(BaseModel):
    """The latest price of a symbol, as the market data provider served it."""

    symbol: str
    currency: Currency
    price: Decimal
    tick: int = Field(description="The provider's sequence number: every quote it serves has the next one")


class PositionRead(BaseModel):
    symbol: str
    quantity: int


class PortfolioRead(BaseModel):
    """What one trader holds."""

    owner: str
    positions: list[PositionRead]


class AccountRead(BaseModel):
    """A trader's account: personal, and never to be stored by any cache."""

    owner: str
    iban: str
    cash: Decimal


class TradeCreate(BaseModel):
    symbol: str = Field(pattern=r"^[A-Z]{1,5}$", examples=["AAPL"])
    side: Side
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    price: Decimal = Field(gt=0, le=MAX_PRICE, decimal_places=2, examples=["189.50"])


class TradeRead(BaseModel):
    id: int
    symbol: str
    side: Side
    quantity: int
    price: Decimal
