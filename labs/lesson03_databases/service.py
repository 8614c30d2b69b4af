"""The Bookly operations, in one class that works on a session.

The service adds, changes and flushes, but never commits: the owner of the session
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


class BookService:
    """Create, read, update and delete books, and add their reviews and tags."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def list_books(self, tag: str | None = None) -> Sequence[Book]:
        """Every book in id order, with its reviews and tags at hand; only those tagged ``tag`` if given."""
        # Exercise 3.2: Load the reviews and tags of all listed books in a fixed number of queries
        statement = select(Book)
        if tag is not None:
            # Exercise 3.4: Keep only the books that carry the tag named `tag`
            raise NotImplementedError('Exercise 3.4: Keep only the books that carry the tag named `tag`')
        return self.session.exec(statement.order_by(col(Book.id))).all()

    def get_book(self, book_id: int) -> Book:
        """One book; BookNotFound if there is none with this id."""
        book = self.session.get(Book, book_id)
        if book is None:
            raise BookNotFound(book_id)
        return book

    def create_book(self, data: BookCreate) -> Book:
        """Store a book with its tags and first reviews."""
        book = Book.model_validate(data.model_dump(exclude={"tags", "reviews"}))
        self.session.add(book)
        self._flush(f"A book with ISBN {data.isbn} already exists")
        # Exercise 3.3: Store the book, its tags and its reviews together, or nothing at all
        self.session.commit()  # save the book before adding its tags and reviews
        book.tags = self._tags_named(data.tags)
        self.session.commit()
        for review in data.reviews:
            self.session.add(Review.model_validate(review, update={"book_id": book.id}))
        self._flush(SECOND_REVIEW)
        return book

    def update_book(self, book_id: int, changes: BookUpdate) -> Book:
        """Change the fields the client sent, and only those."""
        book = self.get_book(book_id)
        book.sqlmodel_update(changes.model_dump(exclude_unset=True))
        self.session.flush()
        return book

    def delete_book(self, book_id: int) -> None:
        """Delete a book; its reviews go with it, its tags stay."""
        self.session.delete(self.get_book(book_id))
        self.session.flush()

    def add_review(self, book_id: int, data: ReviewCreate) -> Review:
        """Add a review to a book: a reviewer reviews a book at most once."""
        # Exercise 3.1: Add a review to a stored book: BookNotFound if none, Conflict for a second one
        raise NotImplementedError('Exercise 3.1: Add a review to a stored book: BookNotFound if none, Conflict for a second one')

    def list_tags(self) -> Sequence[str]:
        """The names of all tags, in alphabetical order."""
        return self.session.exec(select(Tag.name).order_by(col(Tag.name))).all()

    def _tags_named(self, names: Iterable[str]) -> list[Tag]:
        """The tags with these names, in name order; a name not stored yet becomes a new tag."""
        wanted = sorted(set(names))
        if not wanted:
            return []
        stored = {tag.name: tag for tag in self.session.exec(select(Tag).where(col(Tag.name).in_(wanted)))}
        return [stored.get(name) or Tag(name=name) for name in wanted]

    def _flush(self, conflict: str) -> None:
        """Send the pending changes now, so that a broken database rule surfaces here, as a Conflict."""
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict(conflict) from None
