"""What the API reads and answers."""

from typing import Literal

from pydantic import BaseModel, Field

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database


class ErrorResponse(BaseModel):
    detail: str = Field(examples=["Product 7 not found"])


class ProductCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price_cents: int = Field(ge=1, le=10_000_000)


class ProductRead(BaseModel):
    id: int
    name: str
    price_cents: int
    views: int = Field(description="How often the product's page was read, by every worker together")


class SalesReport(BaseModel):
    products: int
    total_cents: int


class Health(BaseModel):
    """``checks`` maps each dependency to ``"ok"`` or what went wrong."""

    status: Literal["ok", "ready", "unavailable"]
    checks: dict[str, str] = {}
