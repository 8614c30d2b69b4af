"""Routes. They are plain ``def`` functions: the database driver blocks, so FastAPI runs
them in worker threads and the event loop stays free."""

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, status

from . import service
from .dependencies import BookId, SessionDep
from .models import Book, Review, Role
from .schemas import (
    BookCreate,
    BookRead,
    InvalidRequest,
    Message,
    ReviewCreate,
    ReviewRead,
    RoleRead,
    UserRead,
    UserRegister,
)

router = APIRouter()


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of a route, for the OpenAPI schema."""
    descriptions = {
        status.HTTP_404_NOT_FOUND: "No book with this id",
        status.HTTP_409_CONFLICT: "The email or ISBN is taken",
        status.HTTP_422_UNPROCESSABLE_CONTENT: "The body is invalid, or its owner_id names no user",
        status.HTTP_503_SERVICE_UNAVAILABLE: "The database has not been migrated (run `alembic upgrade head`)",
    }
    # A 422 is either FastAPI's list of problems with the request or a domain error's detail.
    models = {status.HTTP_422_UNPROCESSABLE_CONTENT: InvalidRequest | Message}
    return {code: {"model": models.get(code, Message), "description": descriptions[code]} for code in codes}


NOT_READY = status.HTTP_503_SERVICE_UNAVAILABLE


@router.get("/roles", response_model=list[RoleRead], tags=["users"], responses=documented(NOT_READY))
def list_roles(session: SessionDep) -> Sequence[Role]:
    """The roles a user can have, as the migrations inserted them."""
    return service.list_roles(session)


@router.post(
    "/users/register",
    status_code=status.HTTP_201_CREATED,
    tags=["users"],
    responses=documented(status.HTTP_409_CONFLICT, NOT_READY),
)
def register(data: UserRegister, session: SessionDep) -> UserRead:
    """Create an account with the role "user"."""
    return service.register_user(session, data)


@router.get("/books", response_model=list[BookRead], tags=["books"], responses=documented(NOT_READY))
def list_books(session: SessionDep) -> Sequence[Book]:
    return service.list_books(session)


@router.post(
    "/books",
    status_code=status.HTTP_201_CREATED,
    response_model=BookRead,
    tags=["books"],
    responses=documented(status.HTTP_409_CONFLICT, status.HTTP_422_UNPROCESSABLE_CONTENT, NOT_READY),
)
def add_book(data: BookCreate, session: SessionDep) -> Book:
    return service.add_book(session, data)


@router.get(
    "/books/{book_id}",
    response_model=BookRead,
    tags=["books"],
    responses=documented(status.HTTP_404_NOT_FOUND, NOT_READY),
)
def get_book(book_id: BookId, session: SessionDep) -> Book:
    return service.get_book(session, book_id)


@router.get(
    "/books/{book_id}/reviews",
    response_model=list[ReviewRead],
    tags=["reviews"],
    responses=documented(status.HTTP_404_NOT_FOUND, NOT_READY),
)
def list_reviews(book_id: BookId, session: SessionDep) -> Sequence[Review]:
    return service.list_reviews(session, book_id)


@router.post(
    "/books/{book_id}/reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewRead,
    tags=["reviews"],
    responses=documented(status.HTTP_404_NOT_FOUND, NOT_READY),
)
def add_review(book_id: BookId, data: ReviewCreate, session: SessionDep) -> Review:
    return service.add_review(session, book_id, data)
