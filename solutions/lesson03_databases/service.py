"""The Bookly operations: functions that take the request's session first.

The services add, change and flush, but never commit: the owner of the session
(the request's dependency) ends the transaction, so one request is one transaction.
"""

from collections.abc import Iterable, Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from .exceptions import BookNotFound, Conflict
from .models import Book, Review, Tag
from .schemas import BookCreate, BookUpdate, ReviewCreate

SECOND_REVIEW = "A reviewer can review a book only once"


def list_books(session: Session, tag: str | None = None) -> Sequence[Book]:
    """Every book in id order, with its reviews and tags at hand; only those tagged ``tag`` if given."""
    # BEGIN SOLUTION 3.2: Load the reviews and tags of all listed books in a fixed number of queries
    statement = select(Book).options(selectinload(Book.reviews), selectinload(Book.tags))
    # STUB
    # statement = select(Book)
    # END SOLUTION
    if tag is not None:
        # BEGIN SOLUTION 3.4: Keep only the books that carry the tag named `tag`
        statement = statement.where(col(Book.tags).any(col(Tag.name) == tag))
        # END SOLUTION
    return session.exec(statement.order_by(col(Book.id))).all()


def get_book(session: Session, book_id: int) -> Book:
    """One book; BookNotFound if there is none with this id."""
    book = session.get(Book, book_id)
    if book is None:
        raise BookNotFound(book_id)
    return book


def create_book(session: Session, data: BookCreate) -> Book:
    """Store a book with its tags and first reviews."""
    book = Book.model_validate(data.model_dump(exclude={"tags", "reviews"}))
    session.add(book)
    _flush(session, f"A book with ISBN {data.isbn} already exists")
    # BEGIN SOLUTION 3.3: Store the book, its tags and its reviews together, or nothing at all
    book.tags = _tags_named(session, data.tags)
    session.flush()  # a tag that another request created meanwhile: IntegrityError, a 409 (exceptions.py)
    for review in data.reviews:
        session.add(Review.model_validate(review, update={"book_id": book.id}))
    _flush(session, SECOND_REVIEW)
    # STUB
    # session.commit()  # save the book before adding its tags and reviews
    # book.tags = _tags_named(session, data.tags)
    # session.commit()
    # for review in data.reviews:
    #     session.add(Review.model_validate(review, update={"book_id": book.id}))
    # _flush(session, SECOND_REVIEW)
    # END SOLUTION
    return book


def update_book(session: Session, book_id: int, changes: BookUpdate) -> Book:
    """Change the fields the client sent, and only those."""
    book = get_book(session, book_id)
    book.sqlmodel_update(changes.model_dump(exclude_unset=True))
    session.flush()
    return book


def delete_book(session: Session, book_id: int) -> None:
    """Delete a book; its reviews go with it, its tags stay."""
    session.delete(get_book(session, book_id))
    session.flush()


def add_review(session: Session, book_id: int, data: ReviewCreate) -> Review:
    """Add a review to a book: a reviewer reviews a book at most once."""
    # BEGIN SOLUTION 3.1: Add a review to a stored book: BookNotFound if none, Conflict for a second one
    book = get_book(session, book_id)
    review = Review.model_validate(data, update={"book_id": book.id})
    session.add(review)
    _flush(session, SECOND_REVIEW)
    return review
    # END SOLUTION


def list_tags(session: Session) -> Sequence[str]:
    """The names of all tags, in alphabetical order."""
    return session.exec(select(Tag.name).order_by(col(Tag.name))).all()


def _tags_named(session: Session, names: Iterable[str]) -> list[Tag]:
    """The tags with these names, in name order; a name not stored yet becomes a new tag."""
    wanted = sorted(set(names))
    if not wanted:
        return []
    stored = {tag.name: tag for tag in session.exec(select(Tag).where(col(Tag.name).in_(wanted)))}
    return [stored.get(name) or Tag(name=name) for name in wanted]


def _flush(session: Session, conflict: str) -> None:
    """Send the pending changes now, so that a broken database rule surfaces here, as a Conflict."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(conflict) from None
