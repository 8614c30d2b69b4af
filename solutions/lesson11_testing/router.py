"""Routes: ``/books``, ``/loans`` and ``/catalogue``.

Routes are plain ``def`` functions: the database calls block, and FastAPI runs ``def``
routes in a thread pool. A route that changes books or loans tells the catalogue to forget.
"""

from typing import Annotated

from fastapi import APIRouter, Path, status

from . import service
from .dependencies import CatalogueDep, SessionDep, SettingsDep, TodayDep
from .exceptions import error_responses
from .models import Book
from .schemas import MAX_ID, BookCreate, BookRead, CatalogueEntry, LoanCreate, LoanRead

books_router = APIRouter(prefix="/books", tags=["books"])
loans_router = APIRouter(prefix="/loans", tags=["loans"])
catalogue_router = APIRouter(prefix="/catalogue", tags=["catalogue"])

BookId = Annotated[int, Path(ge=1, le=MAX_ID)]
LoanId = Annotated[int, Path(ge=1, le=MAX_ID)]


@books_router.post("", status_code=status.HTTP_201_CREATED, response_model=BookRead, summary="Add a book")
def add_book(data: BookCreate, session: SessionDep, catalogue: CatalogueDep) -> Book:
    """Add a book with 1 to 10 copies."""
    book = service.create_book(session, data)
    catalogue.forget_after_commit(session)
    return book


@books_router.get("", response_model=list[BookRead], summary="Every book")
def list_books(session: SessionDep) -> list[Book]:
    return service.list_books(session)


@books_router.get("/{book_id}", response_model=BookRead, responses=error_responses(404), summary="One book")
def read_book(book_id: BookId, session: SessionDep) -> Book:
    return service.get_book(session, book_id)


@loans_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409),
    summary="Borrow a copy",
)
def borrow(
    data: LoanCreate, session: SessionDep, settings: SettingsDep, catalogue: CatalogueDep, today: TodayDep
) -> LoanRead:
    """Lend a copy from today; it is due back ``BOOKLY_LOAN_DAYS`` days later. 409 when every copy is out."""
    loan = service.lend(session, data, today, settings.loan_days)
    catalogue.forget_after_commit(session)
    return service.loan_as_of(loan, today, settings.fee_per_day_cents)


@loans_router.get("/{loan_id}", responses=error_responses(404), summary="One loan, as of today")
def read_loan(loan_id: LoanId, session: SessionDep, settings: SettingsDep, today: TodayDep) -> LoanRead:
    loan = service.get_loan(session, loan_id)
    return service.loan_as_of(loan, today, settings.fee_per_day_cents)


@loans_router.post("/{loan_id}/return", responses=error_responses(404, 409), summary="Return a copy")
def give_back(
    loan_id: LoanId, session: SessionDep, settings: SettingsDep, catalogue: CatalogueDep, today: TodayDep
) -> LoanRead:
    """The copy is back today; the fee counts the days after the due date. 409 the second time."""
    loan = service.return_loan(session, loan_id, today)
    catalogue.forget_after_commit(session)
    return service.loan_as_of(loan, today, settings.fee_per_day_cents)


@catalogue_router.get("", response_model=list[CatalogueEntry], summary="The catalogue, kept in memory")
def read_catalogue(session: SessionDep, catalogue: CatalogueDep) -> list[CatalogueEntry]:
    """Every book by title, with the copies on the shelf now."""
    return catalogue.entries(session)
