"""What the routes do with the database: functions that take the request's session first.

They add and flush, but never commit: the session dependency commits when the route
returns, so one request is one transaction. Roles are looked up by name, never by id:
ids of reference rows differ from one database to the next.
"""

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .exceptions import (
    BooklyError,
    BookNotFound,
    EmailTaken,
    IsbnTaken,
    RoleMissing,
    UnknownOwner,
)
from .models import Book, Review, Role, User
from .schemas import BookCreate, ReviewCreate, UserRead, UserRegister

DEFAULT_ROLE = "user"


def list_roles(session: Session) -> Sequence[Role]:
    return session.exec(select(Role).order_by(Role.id)).all()


def register_user(session: Session, data: UserRegister) -> UserRead:
    role = session.exec(select(Role).where(Role.name == DEFAULT_ROLE)).first()
    if role is None:
        raise RoleMissing(DEFAULT_ROLE)
    if session.exec(select(User).where(User.email == data.email)).first() is not None:
        raise EmailTaken(data.email)
    user = User(email=data.email, full_name=data.full_name, role_id=role.id)
    session.add(user)
    _flush(session, EmailTaken(data.email))
    return UserRead(id=user.id, email=user.email, full_name=user.full_name, role=role.name)


def list_books(session: Session) -> Sequence[Book]:
    return session.exec(select(Book).order_by(Book.id)).all()


def get_book(session: Session, book_id: int) -> Book:
    book = session.get(Book, book_id)
    if book is None:
        raise BookNotFound(book_id)
    return book


def add_book(session: Session, data: BookCreate) -> Book:
    if session.get(User, data.owner_id) is None:
        raise UnknownOwner(data.owner_id)
    if data.isbn is not None and session.exec(select(Book).where(Book.isbn == data.isbn)).first() is not None:
        raise IsbnTaken(data.isbn)
    book = Book.model_validate(data)
    session.add(book)
    _flush(session, IsbnTaken(data.isbn or ""))
    return book


def list_reviews(session: Session, book_id: int) -> Sequence[Review]:
    get_book(session, book_id)
    return session.exec(select(Review).where(Review.book_id == book_id).order_by(Review.id)).all()


def add_review(session: Session, book_id: int, data: ReviewCreate) -> Review:
    get_book(session, book_id)
    review = Review(book_id=book_id, **data.model_dump())
    session.add(review)
    session.flush()
    return review


def _flush(session: Session, conflict: BooklyError) -> None:
    """Send the pending insert now: a unique value stored by a concurrent request in the meantime is a conflict."""
    try:
        session.flush()
    except IntegrityError:
        raise conflict from None
