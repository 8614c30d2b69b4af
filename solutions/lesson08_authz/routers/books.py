"""The catalogue: anyone reads it; verified users add books; admins delete them."""

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from sqlmodel import col, select

from ..dependencies import BookAdmin, BookWriter, SessionDep
from ..exceptions import NotFound, error_responses
from ..models import Book
from ..schemas import BookCreate, BookRead

router = APIRouter(prefix="/books", tags=["books"])
BookId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_model=list[BookRead])
def list_books(session: SessionDep) -> Sequence[Book]:
    """Every book, in id order. No token needed."""
    return session.exec(select(Book).order_by(col(Book.id))).all()


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BookRead, responses=error_responses(401, 403))
def add_book(data: BookCreate, user: BookWriter, session: SessionDep) -> Book:
    """Add a book. Needs the `books:write` scope and a verified email address."""
    book = Book(title=data.title, author=data.author, added_by=user.id)
    session.add(book)
    session.flush()
    return book


@router.delete(
    "/{book_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404),
)
def delete_book(book_id: BookId, admin: BookAdmin, session: SessionDep) -> None:
    """Delete a book. Needs the `books:write` scope and the admin role."""
    book = session.get(Book, book_id)
    if book is None:
        raise NotFound(f"Book {book_id} not found")
    session.delete(book)
    session.flush()
