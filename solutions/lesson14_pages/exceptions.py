"""Errors of the trading desk, and how each app reports them.

Services raise these without knowing about HTTP. The API answers ``{"detail": "..."}`` (JSON, for
scripts); the pages answer an HTML page (for people). Each app has its own handlers: the API is a
separate application mounted under ``/api``, so one handler never has to guess who is asking.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from .templates import templates


class DeskError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DeskError):
    status_code = status.HTTP_404_NOT_FOUND


# --- the API: JSON ------------------------------------------------------------------------------------------


async def desk_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DeskError)
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


async def integrity_error(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": "The request conflicts with data already stored"}, status.HTTP_409_CONFLICT)


def add_api_error_handlers(api: FastAPI) -> None:
    """FastAPI's own handlers already answer HTTPException and validation errors with JSON."""
    api.add_exception_handler(DeskError, desk_error)
    api.add_exception_handler(IntegrityError, integrity_error)


# --- the pages: HTML ----------------------------------------------------------------------------------------


def error_page(request: Request, status_code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    context: dict[str, Any] = {"status_code": status_code, "message": message}
    return templates.TemplateResponse(request, "error.html", context, status_code=status_code, headers=headers)


async def page_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    return error_page(request, error.status_code, str(error.detail), error.headers)


async def page_desk_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, DeskError)
    return error_page(request, error.status_code, error.detail)


async def page_validation_error(request: Request, error: Exception) -> Response:
    return error_page(request, status.HTTP_404_NOT_FOUND, "There is no page at this address")


def add_page_error_handlers(app: FastAPI) -> None:
    """The web app's errors are pages: an unknown address, an unknown operation, a malformed id."""
    # BEGIN SOLUTION 14.3: Answer the pages' errors (HTTPException, DeskError, validation) with error.html
    app.add_exception_handler(StarletteHTTPException, page_http_error)
    app.add_exception_handler(DeskError, page_desk_error)
    app.add_exception_handler(RequestValidationError, page_validation_error)
    # STUB
    # app.add_exception_handler(DeskError, desk_error)
    # END SOLUTION
