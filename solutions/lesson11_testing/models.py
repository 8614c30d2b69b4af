"""The tables: books, and the loans of their copies."""

from datetime import date

from sqlmodel import Field

from .database import TableModel


class Book(TableModel, table=True):
    __tablename__ = "books"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200, index=True)
    author: str = Field(max_length=100)
    copies: int  # how many copies the library owns; a loan takes one until it is returned


class Loan(TableModel, table=True):
    __tablename__ = "loans"

    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="books.id", index=True)
    borrower: str = Field(max_length=100)
    borrowed_on: date
    due_on: date
    returned_on: date | None = None  # None while the borrower still has the copy
