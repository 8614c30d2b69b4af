"""What the API accepts (Create, Update) and returns (Read), and the fields the tables share with them.

A SQLModel class without ``table=True`` is a plain Pydantic model: it validates, and
it documents the API. ``models.py`` builds the tables on the same base classes.
"""

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import StringConstraints, field_validator
from sqlmodel import Field, SQLModel

# ISBN-13, digits only. (SQLModel's Field has no `pattern`, so the constraint lives in the type.)
Isbn = Annotated[str, StringConstraints(pattern=r"^\d{13}$")]
# Tags are short lower-case words joined by hyphens: "python", "data-engineering".
TagName = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
# Free text without NUL: PostgreSQL refuses it where SQLite stores it, so refuse it in both.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


class BookBase(SQLModel):
    """Fields every representation of a book shares."""

    title: Text = Field(min_length=1, max_length=200)
    author: Text = Field(min_length=1, max_length=120)
    isbn: Isbn = Field(max_length=13, description="ISBN-13, 13 digits", schema_extra={"examples": ["9781000000104"]})
    year: int = Field(ge=1450, le=2100, description="Year of publication")


class ReviewBase(SQLModel):
    """Fields every representation of a review shares."""

    reviewer: Text = Field(min_length=1, max_length=50)
    rating: int
    comment: Text = Field(default="", max_length=500)


class ReviewCreate(ReviewBase):
    """A review as a client sends it. Input is where the rules are checked; stored reviews are trusted."""

    # Exercise 3.1: A rating is a whole number from 1 to 5, both included
    rating: int = Field(ge=1, lt=5, description="From 1 to 5 stars")


class ReviewRead(ReviewBase):
    """A review as the API returns it."""

    id: int


class BookCreate(BookBase):
    """A new book, optionally with tags and first reviews: stored together, or not at all."""

    tags: list[TagName] = Field(default_factory=list, description="Tag names; new ones are created")
    reviews: list[ReviewCreate] = Field(default_factory=list)


class BookUpdate(SQLModel):
    """A partial update: send only the fields to change. The ISBN never changes."""

    title: Text | None = Field(default=None, min_length=1, max_length=200)
    author: Text | None = Field(default=None, min_length=1, max_length=120)
    year: int | None = Field(default=None, ge=1450, le=2100)

    @field_validator("title", "author", "year")
    @classmethod
    def not_null(cls, value: object) -> object:
        """Leaving a field out keeps it; sending null would erase a required field, so it is refused."""
        if value is None:
            raise ValueError("send a value, or leave the field out")
        return value


class BookRead(BookBase):
    """A book as the API returns it, with its relations nested: its tags by name, and its reviews."""

    id: int
    tags: list[str]
    reviews: list[ReviewRead]

    @field_validator("tags", mode="before")
    @classmethod
    def tag_names(cls, tags: Iterable[Any]) -> list[Any]:
        """The database holds tags as rows; the API shows only their names."""
        return [getattr(tag, "name", tag) for tag in tags]
