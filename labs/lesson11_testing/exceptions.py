"""Errors of the lending domain, and how the API reports them: ``{"detail": "..."}`` with a status code.

Services raise these without knowing about HTTP; the handlers here choose the status.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError


class LendingError(Exception):
    """An error a client can act on: a status code and a detail in words."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(LendingError):
    status_code = status.HTTP_404_NOT_FOUND


class BookNotFound(NotFound):
    def __init__(self, book_id: int) -> None:
        super().__init__(f"Book {book_id} not found")


class LoanNotFound(NotFound):
    def __init__(self, loan_id: int) -> None:
        super().__init__(f"Loan {loan_id} not found")


class Conflict(LendingError):
    status_code = status.HTTP_409_CONFLICT


class NoCopyAvailable(Conflict):
    def __init__(self, book_id: int) -> None:
        super().__init__(f"Every copy of book {book_id} is on loan")


class AlreadyReturned(Conflict):
    def __init__(self, loan_id: int) -> None:
        super().__init__(f"Loan {loan_id} was returned already")


class ErrorResponse(BaseModel):
    """The body of every error this API answers with, 422 aside."""

    detail: str = Field(examples=["Book 7 not found"])


DESCRIPTIONS = {
    status.HTTP_404_NOT_FOUND: "No such book or loan",
    status.HTTP_409_CONFLICT: "Conflicts with the library's state: no copy left, or returned already",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that can answer with these error statuses, for the OpenAPI schema."""
    return {code: {"model": ErrorResponse, "description": DESCRIPTIONS[code]} for code in codes}


async def lending_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, LendingError)
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


async def integrity_error(request: Request, error: Exception) -> JSONResponse:
    """A database rule no service anticipated: a conflict, in stable words."""
    return JSONResponse({"detail": "The request conflicts with data already stored"}, status.HTTP_409_CONFLICT)


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LendingError, lending_error)
    app.add_exception_handler(IntegrityError, integrity_error)
