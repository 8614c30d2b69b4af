"""Errors the API reports, each with a status code and a detail a client can act on."""

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError


class OperationNotFound(HTTPException):
    def __init__(self, operation_id: int) -> None:
        super().__init__(status.HTTP_404_NOT_FOUND, detail=f"Operation {operation_id} not found")


def invalid_body(error: ValidationError) -> RequestValidationError:
    """A rule broken by the merged result of a PATCH, reported as a 422 like any invalid body.

    Only where and what: the input of such an error is the stored record, internal fields included.
    """
    return RequestValidationError(
        [
            {"type": problem["type"], "loc": ("body", *problem["loc"]), "msg": problem["msg"]}
            for problem in error.errors(include_url=False)
        ]
    )
