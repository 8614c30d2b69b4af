"""The tables: users, and the messages of every room."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlmodel import Field

from .database import TableModel


def _now() -> datetime:
    return datetime.now(UTC)


class User(TableModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=20, unique=True, index=True)
    hashed_password: str = Field(max_length=255)  # an Argon2 hash; the password itself is never stored


class Message(TableModel, table=True):
    """A chat message. Its id grows with every message of any room: the order they were stored in."""

    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    room: str = Field(max_length=32, index=True)
    author: str = Field(max_length=20)
    text: str = Field(max_length=10_000)
    sent_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
