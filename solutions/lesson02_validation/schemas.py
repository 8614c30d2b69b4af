"""What the API accepts (Create, Update) and what it returns (Read)."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from .base import TradingModel, as_utc
from .config import Environment

# ISO 4217 codes the desk settles in.
CURRENCIES = frozenset({"AUD", "CAD", "CHF", "CNY", "EUR", "GBP", "HKD", "JPY", "SEK", "USD"})

# Up to 18 digits, 8 of them after the point: enough for a share count or a price, never a float.
Price = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=8, examples=["189.50"])]
Ticker = Annotated[str, Field(min_length=1, max_length=12, pattern=r"^[A-Z][A-Z0-9.]*$", examples=["AAPL"])]
Note = Annotated[str, Field(max_length=200)]

# BEGIN SOLUTION 2.1: Side is "buy" or "sell" and nothing else
Side = Literal["buy", "sell"]
# STUB
# Side = str
# END SOLUTION


class InstrumentType(StrEnum):
    SHARE = "share"
    BOND = "bond"
    ETF = "etf"
    CURRENCY = "currency"


class OperationBase(TradingModel):
    """Fields every representation of an operation shares, and the rules they obey."""

    ticker: Ticker
    instrument_type: InstrumentType
    side: Side
    # BEGIN SOLUTION 2.1: Quantity is a Decimal greater than zero
    quantity: Decimal = Field(gt=0, max_digits=18, decimal_places=8, examples=["10"])
    # STUB
    # quantity: str
    # END SOLUTION
    price: Price
    currency: str = Field(examples=["USD"])
    executed_at: datetime
    settled_at: datetime | None = None

    # BEGIN SOLUTION 2.2: Accept currency codes in any case, return them upper-case, reject unknown ones
    @field_validator("currency")
    @classmethod
    def known_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in CURRENCIES:
            raise ValueError(f"unknown currency {value!r}; use one of {', '.join(sorted(CURRENCIES))}")
        return code

    # STUB
    # END SOLUTION

    # BEGIN SOLUTION 2.2: An operation cannot settle before it was executed (settling at that instant is fine)
    @model_validator(mode="after")
    def settles_after_execution(self) -> Self:
        # Stored times may have no offset: as_utc makes both comparable, as instants.
        if self.settled_at is not None and as_utc(self.settled_at) < as_utc(self.executed_at):
            raise ValueError("settled_at cannot be before executed_at")
        return self

    # STUB
    # END SOLUTION


class OperationCreate(OperationBase):
    """A new operation as a client sends it: the server assigns the id."""

    owner_note: Note | None = Field(default=None, description="For the back office; never returned by the API.")


class OperationRead(OperationBase):
    """An operation as the API returns it."""

    id: int


class OperationUpdate(TradingModel):
    """A partial update: send only the fields to change. Other fields cannot be changed."""

    model_config = ConfigDict(extra="forbid")

    # BEGIN SOLUTION 2.1: A new quantity must also be a Decimal greater than zero
    quantity: Decimal | None = Field(default=None, gt=0, max_digits=18, decimal_places=8)
    # STUB
    # quantity: str | None = None
    # END SOLUTION
    price: Price | None = None
    settled_at: datetime | None = None
    owner_note: Note | None = None


class Health(TradingModel):
    status: Literal["ok"] = "ok"
    app_name: str
    environment: Environment
