"""The accounts table."""

from sqlmodel import Field

from ..database import TableModel


class Account(TableModel, table=True):
    __tablename__ = "accounts"
    # SQLite then never reuses the id of a deleted row, like a PostgreSQL sequence.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - SQLAlchemy reads it; nobody changes it

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=8, unique=True)
    owner: str = Field(max_length=100)
    currency: str = Field(max_length=3)
