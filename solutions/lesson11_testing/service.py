"""The lending operations: functions that take the request's session first.

They add, change and flush, but never commit: the session dependency ends the transaction.
Dates come in as arguments (``today``), never from the machine's clock: the route gets the
day from a dependency, and a test can fix it.
"""

from datetime import date, timedelta

from sqlmodel import Session, col, func, select

from .exceptions import AlreadyReturned, BookNotFound, LoanNotFound, NoCopyAvailable
from .models import Book, Loan
from .schemas import BookCreate, LoanCreate, LoanRead


def create_book(session: Session, data: BookCreate) -> Book:
    book = Book.model_validate(data)
    session.add(book)
    session.flush()
    return book


def get_book(session: Session, book_id: int) -> Book:
    """The book with this id; BookNotFound otherwise."""
    book = session.get(Book, book_id)
    if book is None:
        raise BookNotFound(book_id)
    return book


def list_books(session: Session) -> list[Book]:
    return list(session.exec(select(Book).order_by(col(Book.id))).all())


def copies_on_loan(session: Session, book_id: int) -> int:
    count = select(func.count()).select_from(Loan).where(Loan.book_id == book_id, col(Loan.returned_on).is_(None))
    return session.exec(count).one()


def lend(session: Session, data: LoanCreate, today: date, loan_days: int) -> Loan:
    """Lend a copy from ``today``, due back ``loan_days`` days later; NoCopyAvailable if every copy is out."""
    book = get_book(session, data.book_id)
    if copies_on_loan(session, data.book_id) >= book.copies:
        raise NoCopyAvailable(data.book_id)
    loan = Loan(
        book_id=data.book_id, borrower=data.borrower, borrowed_on=today, due_on=today + timedelta(days=loan_days)
    )
    session.add(loan)
    session.flush()
    return loan


def get_loan(session: Session, loan_id: int) -> Loan:
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise LoanNotFound(loan_id)
    return loan


def return_loan(session: Session, loan_id: int, today: date) -> Loan:
    """Record the copy as back on the shelf ``today``; AlreadyReturned the second time."""
    loan = get_loan(session, loan_id)
    if loan.returned_on is not None:
        raise AlreadyReturned(loan_id)
    loan.returned_on = today
    session.add(loan)
    session.flush()
    return loan


def loan_as_of(loan: Loan, today: date, fee_per_day_cents: int) -> LoanRead:
    """The loan as the API shows it on ``today``.

    A loan is overdue from the day after its due date while the copy is out. The fee counts
    each day after the due date until the copy came back (or until today, while it is out).
    """
    end = loan.returned_on or today
    days_late = max(0, (end - loan.due_on).days)
    return LoanRead(
        id=loan.id or 0,
        book_id=loan.book_id,
        borrower=loan.borrower,
        borrowed_on=loan.borrowed_on,
        due_on=loan.due_on,
        returned_on=loan.returned_on,
        overdue=loan.returned_on is None and today > loan.due_on,
        fee_cents=days_late * fee_per_day_cents,
    )
