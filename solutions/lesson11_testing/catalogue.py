"""The catalogue: every book with its copies on the shelf, built once and kept until a write changes it.

Building it reads every book and counts the loans, so the app keeps the answer in memory.
The lifespan creates one ``Catalogue`` per app. A route that changes books or loans asks it
to forget the kept answer once the change is committed (a read in between would keep the
old one); the next read builds it again.
"""

import threading

from sqlmodel import Session, col, func, select

from .models import Book, Loan
from .schemas import CatalogueEntry

AFTER_COMMIT = "after_commit"  # session.info key: what to do once the request's transaction is committed


def build_catalogue(session: Session) -> list[CatalogueEntry]:
    """Every book, by title, with how many of its copies are not on loan."""
    on_loan = dict(
        session.exec(
            select(Loan.book_id, func.count()).where(col(Loan.returned_on).is_(None)).group_by(col(Loan.book_id))
        ).all()
    )
    books = session.exec(select(Book).order_by(col(Book.title), col(Book.id))).all()
    return [
        CatalogueEntry(
            id=book.id or 0,
            title=book.title,
            author=book.author,
            copies=book.copies,
            available=book.copies - on_loan.get(book.id, 0),
        )
        for book in books
    ]


class Catalogue:
    """The kept catalogue of one app, and how many times it was built (a cache's hits are what it saves)."""

    def __init__(self) -> None:
        self._entries: list[CatalogueEntry] | None = None
        self._lock = threading.Lock()  # routes run in a thread pool
        self.builds = 0

    def entries(self, session: Session) -> list[CatalogueEntry]:
        with self._lock:
            if self._entries is None:
                self._entries = build_catalogue(session)
                self.builds += 1
            return self._entries

    def forget(self) -> None:
        with self._lock:
            self._entries = None

    def forget_after_commit(self, session: Session) -> None:
        """This request changes books or loans: once it commits, the next read builds the catalogue again."""
        session.info.setdefault(AFTER_COMMIT, []).append(self.forget)
