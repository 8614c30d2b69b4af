"""The catalogue's table."""

from sqlmodel import Field

from .database import TableModel


class Product(TableModel, table=True):
    __tablename__ = "products"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    # Money is counted in cents: whole numbers, exact in every database.
    price_cents: int
