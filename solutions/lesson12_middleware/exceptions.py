"""Errors of the trading desk, and how the API reports them: ``{"detail": "..."}`` with a status code.

Services raise these without knowing about HTTP; the handlers below turn them into responses.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from .schemas import ErrorResponse

DESCRIPTIONS = {
    status.HTTP_401_UNAUTHORIZED: "No valid session: sign in again",
    status.HTTP_404_NOT_FOUND: "No such operation or symbol",
    status.HTTP_409_CONFLICT: "Conflicts with data already stored",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that can answer with these error statuses, for the OpenAPI schema."""
    return {code: {"model": ErrorResponse, "description": DESCRIPTIONS[code]} for code in codes}


class DeskError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DeskError):
    status_code = status.HTTP_404_NOT_FOUND


class NotAuthenticated(DeskError):
    status_code = status.HTTP_401_UNAUTHORIZED

    def __init__(self, detail: str = "Not signed in") -> None:
        super().__init__(detail)


async def desk_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DeskError)
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


async def integrity_error(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": "The request conflicts with data already stored"}, status.HTTP_409_CONFLICT)


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DeskError, desk_error)
    app.add_exception_handler(IntegrityError, integrity_error)
