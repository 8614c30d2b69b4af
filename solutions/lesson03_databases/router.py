"""Routes for books and their reviews.

Routes are plain ``def`` functions: the session is synchronous, and FastAPI runs
``def`` routes in a thread pool, so a query that waits never blocks the event loop.
"""

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from . import service
from .dependencies import BookId, SessionDep
from .models import Book, Review
from .schemas import BookCreate, BookRead, BookUpdate, ReviewCreate, ReviewRead, TagName

router = APIRouter(prefix="/books", tags=["books"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {status.HTTP_404_NOT_FOUND: {"description": "No book with this id"}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    status.HTTP_409_CONFLICT: {"description": "Breaks a rule about stored data, such as a unique ISBN"}
}


@router.get("", response_model=list[BookRead])
def list_books(
    session: SessionDep, tag: Annotated[TagName | None, Query(description="Only books with this tag")] = None
) -> Sequence[Book]:
    """All books in id order, each with its tags and reviews."""
    return service.list_books(session, tag=tag)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BookRead, responses=CONFLICT)
def create_book(data: BookCreate, session: SessionDep) -> Book:
    """Add a book, with its tags and first reviews: all of it is stored, or none of it."""
    return service.create_book(session, data)


@router.get("/{book_id}", response_model=BookRead, responses=NOT_FOUND)
def get_book(book_id: BookId, session: SessionDep) -> Book:
    """One book, with its tags and reviews."""
    return service.get_book(session, book_id)


@router.patch("/{book_id}", response_model=BookRead, responses=NOT_FOUND)
def update_book(book_id: BookId, changes: BookUpdate, session: SessionDep) -> Book:
    """Change the title, author or year of a book."""
    return service.update_book(session, book_id, changes)


@router.delete("/{book_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_book(book_id: BookId, session: SessionDep) -> None:
    """Delete a book and its reviews."""
    service.delete_book(session, book_id)


@router.post(
    "/{book_id}/reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewRead,
    responses={**NOT_FOUND, **CONFLICT},
)
def add_review(book_id: BookId, data: ReviewCreate, session: SessionDep) -> Review:
    """Review a book: a rating from 1 to 5 and an optional comment, once per reviewer."""
    return service.add_review(session, book_id, data)
