"""Bookly's tables as the newest migration ("head") leaves them.

The models never create tables: the migrations in ``migrations/`` do. Alembic reads
these models only to compare them with a database (autogenerate, ``alembic check``).
"""

from sqlalchemy import CheckConstraint, MetaData
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

# Every constraint and index gets a name that a later migration can predict, and so
# find again: SQLite cannot drop what has no name, and PostgreSQL invents names of its own.
NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ix": "ix_%(column_0_label)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class BooklyModel(SQLModel, registry=registry(metadata=metadata)):
    """The base of every table of this app: a metadata of its own, with the naming convention."""


class Role(BooklyModel, table=True):
    """What a user may do. Its rows are reference data, inserted by a migration."""

    __tablename__ = "role"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=30, unique=True)
    description: str = Field(default="", max_length=200)


class User(BooklyModel, table=True):
    # "user" is a reserved word in PostgreSQL: every query would have to quote it.
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    full_name: str = Field(max_length=100)
    role_id: int = Field(foreign_key="role.id")


class Book(BooklyModel, table=True):
    # BEGIN SOLUTION 4.3: Call the table "book", singular like the others, without losing a row
    __tablename__ = "book"
    # STUB
    # __tablename__ = "books"
    # END SOLUTION

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200, index=True)
    author: str = Field(max_length=100)
    # New in the models; exercise 4.1 writes the migration that adds it to the database.
    isbn: str | None = Field(default=None, max_length=13, unique=True)
    owner_id: int = Field(foreign_key="user_account.id")


class Review(BooklyModel, table=True):
    __tablename__ = "review"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)

    id: int | None = Field(default=None, primary_key=True)
    # BEGIN SOLUTION 4.3: Reviews refer to the renamed table
    book_id: int = Field(foreign_key="book.id")
    # STUB
    # book_id: int = Field(foreign_key="books.id")
    # END SOLUTION
    rating: int
    comment: str = Field(default="", max_length=2000)
