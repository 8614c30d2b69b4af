"""Errors of the Bookly domain, and how the API reports them.

The service raises these without knowing about HTTP; the handlers that ``add_exception_handlers``
registers turn them into ``{"detail": "..."}`` answers. A missing table or column means the
migrations have not run, and gets a 503 that says so instead of a bare 500.
"""

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from .database import is_missing_schema

SCHEMA_NOT_READY = "The database schema is missing or out of date: run `alembic upgrade head`."


class BooklyError(Exception):
    """An error a client can act on: a status code and a detail in words."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RoleMissing(BooklyError):
    """Reference data that a migration should have inserted is not there."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE

    def __init__(self, role: str) -> None:
        super().__init__(f"The role {role!r} does not exist: run `alembic upgrade head` to insert the roles.")


class EmailTaken(BooklyError):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, email: str) -> None:
        super().__init__(f"A user with email {email!r} is already registered")


class UnknownOwner(BooklyError):
    """A book whose owner_id names no user: the body is invalid, as a 422 says."""

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT

    def __init__(self, user_id: int) -> None:
        super().__init__(f"No user with id {user_id}")


class BookNotFound(BooklyError):
    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, book_id: int) -> None:
        super().__init__(f"Book {book_id} not found")


class IsbnTaken(BooklyError):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, isbn: str) -> None:
        super().__init__(f"A book with ISBN {isbn} exists already")


async def bookly_error(request: Request, error: Exception) -> JSONResponse:
    status_code = getattr(error, "status_code", status.HTTP_400_BAD_REQUEST)
    return JSONResponse({"detail": getattr(error, "detail", str(error))}, status_code=status_code)


async def database_error(request: Request, error: Exception) -> JSONResponse:
    """A missing table or column means the migrations have not run: 503, not a bare 500."""
    if isinstance(error, DBAPIError) and is_missing_schema(error):
        return JSONResponse({"detail": SCHEMA_NOT_READY}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    raise error


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BooklyError, bookly_error)
    # SQLite reports a missing table as OperationalError, PostgreSQL as ProgrammingError.
    app.add_exception_handler(OperationalError, database_error)
    app.add_exception_handler(ProgrammingError, database_error)
