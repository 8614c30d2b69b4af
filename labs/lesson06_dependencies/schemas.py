"""What the API accepts and returns, and the shop's fixed price list."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Ids are 32-bit integers in the database: a larger number can name no record.
MAX_ID = 2**31 - 1

OrderStatus = Literal["open", "paid", "cancelled"]
Product = Literal["coffee", "tea", "mug", "grinder"]
# Prices in cents: whole numbers never round.
PRICES: dict[str, int] = {"coffee": 1250, "tea": 450, "mug": 900, "grinder": 4500}
# An order holds at most this many lines, so its total always fits the database's integers.
MAX_LINES = 20


class LineCreate(BaseModel):
    """A product and how many of it; the price comes from the shop's list."""

    product: Product
    quantity: int = Field(ge=1, le=99)


class OrderCreate(BaseModel):
    lines: list[LineCreate] = Field(min_length=1, max_length=MAX_LINES)


class LineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product: str
    quantity: int
    unit_price_cents: int


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    status: OrderStatus
    total_cents: int
    lines: list[LineRead]


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    balance_cents: int
    calls: int = Field(description="Calls made so far, this one included; the plan allows SHOP_CALL_QUOTA")


class Receipt(BaseModel):
    """What the shop mails once an order is paid, and what GET /orders/{id}/receipt returns."""

    to: str
    subject: str
    order_id: int
    status: OrderStatus
    total_cents: int


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    detail: str
