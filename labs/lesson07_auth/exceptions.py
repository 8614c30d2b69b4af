"""Errors of the Bookly domain, and how the API reports them: ``{"detail": "..."}`` with a status code.

Services raise these without knowing about HTTP. A credential problem is a 401 and carries
``WWW-Authenticate: Bearer``, which tells the client how to authenticate.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

BEARER = {"WWW-Authenticate": "Bearer"}


class BooklyError(Exception):
    """An error a client can act on: a status code, a detail in words, and headers if the status needs them."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class NotAuthenticated(BooklyError):
    """The credentials are missing, wrong or expired, or name nobody: sign in (again)."""

    status_code = status.HTTP_401_UNAUTHORIZED

    def __init__(self, detail: str = "Could not validate credentials") -> None:
        super().__init__(detail, BEARER)


class InvalidCredentials(NotAuthenticated):
    """A failed login. The same words whether the email is unknown or the password wrong."""

    def __init__(self) -> None:
        super().__init__("Incorrect email or password")


class CsrfRejected(BooklyError):
    """A request authenticated by cookie that changes something, without the CSRF token of that session."""

    status_code = status.HTTP_403_FORBIDDEN

    def __init__(self) -> None:
        super().__init__("Missing or wrong CSRF token: send the bookly_csrf cookie's value in X-CSRF-Token")


class Conflict(BooklyError):
    status_code = status.HTTP_409_CONFLICT


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("A user with this email already exists")


class ErrorResponse(BaseModel):
    """The body of every error this API answers with, 422 aside."""

    detail: str = Field(examples=["Could not validate credentials"])


DESCRIPTIONS = {
    status.HTTP_401_UNAUTHORIZED: "No valid credentials: missing, wrong or expired, or naming no user",
    status.HTTP_403_FORBIDDEN: "A cookie-authenticated change without the session's X-CSRF-Token header",
    status.HTTP_409_CONFLICT: "Conflicts with data already stored",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that can answer with these error statuses, for the OpenAPI schema."""
    return {code: {"model": ErrorResponse, "description": DESCRIPTIONS[code]} for code in codes}


async def bookly_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BooklyError)
    return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)


async def integrity_error(request: Request, error: Exception) -> JSONResponse:
    """A database rule no service anticipated (two registrations at once): a conflict, in stable words."""
    return JSONResponse({"detail": "The request conflicts with data already stored"}, status.HTTP_409_CONFLICT)


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BooklyError, bookly_error)
    app.add_exception_handler(IntegrityError, integrity_error)
