"""The tables: customers, their orders, and the lines of each order."""

from sqlalchemy import CheckConstraint
from sqlmodel import Field, Relationship

from .database import TableModel


class Customer(TableModel, table=True):
    __tablename__ = "customers"
    # The database refuses a negative balance: two payments racing each other cannot both spend the same credit.
    __table_args__ = (CheckConstraint("balance_cents >= 0", name="ck_customers_balance_not_negative"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    email: str = Field(max_length=200, unique=True)
    # Store credit, in cents: paying an order takes its total from here.
    balance_cents: int = 0
    # Calls made through the API: each customer's plan includes a fixed number.
    calls: int = 0


class Order(TableModel, table=True):
    __tablename__ = "orders"
    # SQLite then never reuses the id of a deleted row, like a PostgreSQL sequence.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - SQLAlchemy reads it; nobody changes it

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    status: str = Field(default="open", max_length=10)
    total_cents: int = 0
    lines: list["OrderLine"] = Relationship(cascade_delete=True, sa_relationship_kwargs={"order_by": "OrderLine.id"})


class OrderLine(TableModel, table=True):
    __tablename__ = "order_lines"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE", index=True)
    product: str = Field(max_length=20)
    quantity: int
    unit_price_cents: int
