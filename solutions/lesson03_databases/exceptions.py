"""Errors of the Bookly domain, and how the API reports them.

The service raises these without knowing about HTTP; the handlers turn them into
responses with a stable ``detail``. A database error never reaches a client as a
driver's message: those differ between SQLite and PostgreSQL, and may reveal the schema.
"""

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError


class BooklyError(Exception):
    """An error a client can act on: a status code and a detail in words."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BookNotFound(BooklyError):
    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, book_id: int) -> None:
        super().__init__(f"Book {book_id} not found")


class Conflict(BooklyError):
    """The request breaks a rule about data already stored, such as a unique ISBN."""

    status_code = status.HTTP_409_CONFLICT


async def bookly_error(request: Request, error: Exception) -> JSONResponse:
    status_code = getattr(error, "status_code", status.HTTP_400_BAD_REQUEST)
    return JSONResponse({"detail": getattr(error, "detail", str(error))}, status_code=status_code)


async def integrity_error(request: Request, error: Exception) -> JSONResponse:
    """A database rule that no service method anticipated: still a conflict, still a stable message."""
    return JSONResponse({"detail": "The request conflicts with data already stored"}, status.HTTP_409_CONFLICT)


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BooklyError, bookly_error)
    app.add_exception_handler(IntegrityError, integrity_error)
