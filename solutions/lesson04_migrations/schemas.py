"""What the API accepts and what it returns."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

# Ids fit PostgreSQL's INTEGER; a larger number is refused with 422, not sent to the database.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Free text without control characters: PostgreSQL refuses NUL in a string.
NO_CONTROL = r"[^\x00-\x1f\x7f]"
EMAIL = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[a-zA-Z]{2,}$"
Email = Annotated[str, Field(max_length=254, pattern=EMAIL, examples=["ada@example.com"])]
# ISBN-10 or ISBN-13, digits only.
Isbn = Annotated[str, Field(pattern=r"^(\d{9}[\dX]|\d{13})$", examples=["9780141439518"])]


class Message(BaseModel):
    """An error the client can act on."""

    detail: str


class InvalidRequest(BaseModel):
    """FastAPI's answer to a request that breaks the schema: one entry per problem."""

    detail: list[dict[str, Any]]


class UserRegister(BaseModel):
    email: Email
    full_name: str = Field(min_length=1, max_length=100, pattern=rf"^{NO_CONTROL}+$")


class UserRead(BaseModel):
    id: int
    email: str
    full_name: str
    role: str


class RoleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    description: str


class BookCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200, pattern=rf"^{NO_CONTROL}+$")
    author: str = Field(min_length=1, max_length=100, pattern=rf"^{NO_CONTROL}+$")
    isbn: Isbn | None = None
    owner_id: Id


class BookRead(BookCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int


class ReviewCreate(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000, pattern=rf"^{NO_CONTROL}*$")


class ReviewRead(ReviewCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int
    book_id: int
