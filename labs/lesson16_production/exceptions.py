"""Errors of the storefront, and how the API reports them: ``{"detail": "..."}`` with a status code.

Services raise these without knowing about HTTP; the handlers below turn them into responses.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from .schemas import ErrorResponse


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse} for code in codes}


class StoreError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(StoreError):
    status_code = status.HTTP_404_NOT_FOUND


async def store_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StoreError)
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


async def integrity_error(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": "The request conflicts with data already stored"}, status.HTTP_409_CONFLICT)


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(IntegrityError, integrity_error)
