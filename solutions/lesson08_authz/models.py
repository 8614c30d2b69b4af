"""The tables: users, and the books they add to the catalogue."""

from datetime import UTC, datetime

from sqlmodel import Field

from .database import TableModel


def _now() -> datetime:
    return datetime.now(UTC)


class User(TableModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)  # stored lower-case
    full_name: str = Field(max_length=100)
    hashed_password: str = Field(max_length=255)
    # The defaults live here, in the model: a new account is a plain, unverified user.
    role: str = Field(default="user", max_length=20)
    is_verified: bool = False
    created_at: datetime = Field(default_factory=_now)


class Book(TableModel, table=True):
    __tablename__ = "books"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    author: str = Field(max_length=120)
    added_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
