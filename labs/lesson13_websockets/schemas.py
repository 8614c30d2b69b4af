"""What the API accepts and returns, over HTTP and over the WebSocket."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Username = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{3,20}$"), Field(examples=["ada"])]
Password = Annotated[str, Field(min_length=8, max_length=128, examples=["correct horse battery staple"])]
# Room names go in URLs and channel names: lower-case letters, digits and dashes.
ROOM_PATTERN = r"^[a-z0-9-]{1,32}$"


class UserCreate(BaseModel):
    username: Username
    password: Password


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str


class Token(BaseModel):
    """The answer of the OAuth2 password flow."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"


class MessageCreate(BaseModel):
    """A message sent over HTTP: ``{"text": "..."}``. Over the WebSocket a client sends the same JSON."""

    text: Annotated[str, Field(min_length=1, max_length=10_000)]


class MessageRead(BaseModel):
    """A stored message, as every client gets it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    room: str
    author: str
    text: str
    sent_at: datetime

    @field_validator("sent_at")
    @classmethod
    def in_utc(cls, value: datetime) -> datetime:
        """SQLite hands back times without a zone; they were stored in UTC."""
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ErrorResponse(BaseModel):
    detail: str
