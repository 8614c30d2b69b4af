"""One error shape for the whole API, ``{"detail": "..."}``: the status code says what kind of error it is.

The handlers turn exceptions into responses, so routes and services never build error
responses themselves. Details are written here, in words a client can act on, never
copied from a database driver.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError

from .exceptions import DomainError

DUPLICATE = "Conflicts with an existing record: a value that must be unique is already taken"
UNAVAILABLE = "The database is unavailable; try again later"
RETRY_AFTER_SECONDS = 30


class ErrorResponse(BaseModel):
    """The body of every error this API answers with."""

    detail: str = Field(examples=["Account 42 not found"])


class RequestProblems(BaseModel):
    """FastAPI's answer to a request that breaks the schema: one entry per problem."""

    detail: list[dict[str, Any]]


# A 422 is either FastAPI's list of problems with the request, or a domain error's detail (an unknown account).
INVALID_OR_UNKNOWN = {
    status.HTTP_422_UNPROCESSABLE_CONTENT: {
        "model": RequestProblems | ErrorResponse,
        "description": "The body is invalid, or it names an account that does not exist",
    }
}

ERROR_DESCRIPTIONS = {
    status.HTTP_404_NOT_FOUND: "No record with this id",
    status.HTTP_409_CONFLICT: "Conflicts with existing data: a unique value is taken, or the record is in use",
    status.HTTP_503_SERVICE_UNAVAILABLE: "The database is unavailable; retry after the Retry-After seconds",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that can answer with these error statuses, for the OpenAPI schema."""
    # Exercise 5.4: Document each error status with the ErrorResponse model and a description
    return {}


async def domain_error_handler(request: Request, exc: DomainError) -> JSONResponse:
    """A domain error, such as an account that does not exist: its own status code and detail."""
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)


async def integrity_error_handler(request: Request, exc: IntegrityError) -> JSONResponse:
    """A write the database refused because it breaks a constraint, such as a unique account number."""
    # Exercise 5.3: Answer a broken unique constraint with 409 and {"detail": ...}, in words of your own
    raise NotImplementedError('Exercise 5.3: Answer a broken unique constraint with 409 and {"detail": ...}, in words of your own')


async def database_unavailable_handler(request: Request, exc: OperationalError) -> JSONResponse:
    """The database did not answer: the client may retry later, and learns nothing about the driver."""
    # Exercise 5.3: Answer 503 with {"detail": ...} and Retry-After when the database does not answer
    raise NotImplementedError('Exercise 5.3: Answer 503 with {"detail": ...} and Retry-After when the database does not answer')


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)  # type: ignore[arg-type]  # Starlette types handlers for any Exception
    app.add_exception_handler(IntegrityError, integrity_error_handler)  # type: ignore[arg-type]  # Starlette types handlers for any Exception
    app.add_exception_handler(OperationalError, database_unavailable_handler)  # type: ignore[arg-type]  # Starlette types handlers for any Exception
