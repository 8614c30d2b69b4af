"""Errors of the Bookly domain, and how the API reports them: ``{"detail": "..."}`` with a status code.

Services raise these without knowing about HTTP. A credential problem is a 401 and carries
``WWW-Authenticate: Bearer``; too many attempts is a 429 and carries ``Retry-After``.
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
    """The credentials are wrong, expired, revoked or missing: sign in (again)."""

    status_code = status.HTTP_401_UNAUTHORIZED

    def __init__(self, detail: str) -> None:
        super().__init__(detail, BEARER)


class InvalidLink(BooklyError):
    """A verification or reset link that is forged, expired, spent, or meant for something else."""

    def __init__(self) -> None:
        super().__init__("The link is invalid or has expired")


class UnknownScope(BooklyError):
    def __init__(self, scope: str) -> None:
        super().__init__(f"Unknown scope: {scope}")


class TooManyAttempts(BooklyError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed logins; try again later", {"Retry-After": str(retry_after)})


class NotFound(BooklyError):
    status_code = status.HTTP_404_NOT_FOUND


class Conflict(BooklyError):
    status_code = status.HTTP_409_CONFLICT


class ErrorResponse(BaseModel):
    """The body of every error this API answers with, 422 aside."""

    detail: str = Field(examples=["Not authenticated"])


DESCRIPTIONS = {
    status.HTTP_400_BAD_REQUEST: "The request cannot be carried out as sent",
    status.HTTP_401_UNAUTHORIZED: "No valid credentials: missing, wrong, expired or revoked",
    status.HTTP_403_FORBIDDEN: "Authenticated, but not allowed: a scope, a role or a verified address is missing",
    status.HTTP_404_NOT_FOUND: "No such record",
    status.HTTP_409_CONFLICT: "Conflicts with data already stored",
    status.HTTP_429_TOO_MANY_REQUESTS: "Too many attempts: wait for the Retry-After seconds",
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
