"""The tables: books, their reviews (one-to-many) and their tags (many-to-many, through book_tags)."""

from sqlalchemy.orm import registry
from sqlmodel import Field, Relationship, SQLModel, UniqueConstraint

from .schemas import BookBase, ReviewBase, TagName


class TableModel(SQLModel, registry=registry()):
    """The base of this app's tables.

    A registry of its own gives these tables their own ``TableModel.metadata``: the app
    creates and drops exactly its tables, and a fresh import of the lab (as ``lab()``
    does) defines them anew instead of clashing with the previous import.
    """


class BookTagLink(TableModel, table=True):
    """One row per (book, tag) pair: the association table behind ``Book.tags`` and ``Tag.books``."""

    __tablename__ = "book_tags"

    book_id: int = Field(foreign_key="books.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tags.id", primary_key=True, ondelete="CASCADE")


class Book(BookBase, TableModel, table=True):
    __tablename__ = "books"
    # Two books never share an ISBN: the database refuses the second one.
    __table_args__ = (UniqueConstraint("isbn"),)

    id: int | None = Field(default=None, primary_key=True)

    # One book, many reviews. Deleting a book deletes its reviews.
    reviews: list["Review"] = Relationship(
        back_populates="book", cascade_delete=True, sa_relationship_kwargs={"order_by": "Review.id"}
    )
    # Many books, many tags, linked through the rows of book_tags.
    tags: list["Tag"] = Relationship(
        back_populates="books", link_model=BookTagLink, sa_relationship_kwargs={"order_by": "Tag.name"}
    )


class Review(ReviewBase, TableModel, table=True):
    __tablename__ = "reviews"
    # The database itself refuses a second review of a book by the same reviewer.
    __table_args__ = (UniqueConstraint("book_id", "reviewer"),)

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="books.id", ondelete="CASCADE", index=True)
    book: Book = Relationship(back_populates="reviews")


class Tag(TableModel, table=True):
    __tablename__ = "tags"

    id: int | None = Field(default=None, primary_key=True)
    name: TagName = Field(max_length=30, unique=True)
    books: list[Book] = Relationship(back_populates="tags", link_model=BookTagLink)
