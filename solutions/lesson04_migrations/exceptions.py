"""Errors the API reports, each with a status code and a detail a client can act on."""

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from .database import is_missing_schema

SCHEMA_NOT_READY = "The database schema is missing or out of date: run `alembic upgrade head`."


class RoleMissing(HTTPException):
    """Reference data that a migration should have inserted is not there."""

    def __init__(self, role: str) -> None:
        detail = f"The role {role!r} does not exist: run `alembic upgrade head` to insert the roles."
        super().__init__(status.HTTP_503_SERVICE_UNAVAILABLE, detail=detail)


class EmailTaken(HTTPException):
    def __init__(self, email: str) -> None:
        super().__init__(status.HTTP_409_CONFLICT, detail=f"A user with email {email!r} is already registered")


def unknown_owner(user_id: int) -> RequestValidationError:
    """A body that names a user who does not exist: a 422 shaped like any invalid body."""
    problem = {
        "type": "value_error",
        "loc": ("body", "owner_id"),
        "msg": f"No user with id {user_id}",
        "input": user_id,
    }
    return RequestValidationError([problem])


class BookNotFound(HTTPException):
    def __init__(self, book_id: int) -> None:
        super().__init__(status.HTTP_404_NOT_FOUND, detail=f"Book {book_id} not found")


class IsbnTaken(HTTPException):
    def __init__(self, isbn: str) -> None:
        super().__init__(status.HTTP_409_CONFLICT, detail=f"A book with ISBN {isbn} exists already")


async def database_error(request: Request, error: Exception) -> JSONResponse:
    """A missing table or column means the migrations have not run: 503, not a bare 500."""
    if isinstance(error, DBAPIError) and is_missing_schema(error):
        return JSONResponse({"detail": SCHEMA_NOT_READY}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    raise error
