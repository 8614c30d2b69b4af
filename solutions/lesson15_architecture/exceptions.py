"""Errors of the tracker, and how the API reports them: ``{"detail": "..."}`` with a status code.

The service layer raises these without knowing about HTTP; ``add_exception_handlers`` maps them.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError


class TrackerError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ProjectNotFound(TrackerError):
    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, project_id: int) -> None:
        super().__init__(f"Project {project_id} not found")


class TaskNotFound(TrackerError):
    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, task_id: int) -> None:
        super().__init__(f"Task {task_id} not found")


class TransitionNotAllowed(TrackerError):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, task_id: int, from_status: str, to_status: str, allowed: list[str]) -> None:
        then = ", ".join(allowed) if allowed else "nothing: it is finished"
        super().__init__(f"Task {task_id} is {from_status}: it cannot move to {to_status}. It can move to {then}")


class HistoryUnavailable(TrackerError):
    """The history could not be written: the change it records must not be saved either."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("The task history cannot be written right now: nothing was changed. Try again later")


class ErrorResponse(BaseModel):
    """The body of every error this API answers with, 422 aside."""

    detail: str = Field(examples=["Task 7 not found"])


DESCRIPTIONS = {
    status.HTTP_404_NOT_FOUND: "No project or task with this id",
    status.HTTP_409_CONFLICT: "The change breaks a rule of the tracker",
    status.HTTP_503_SERVICE_UNAVAILABLE: "The history cannot be written: nothing was changed",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse, "description": DESCRIPTIONS[code]} for code in codes}


async def tracker_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, TrackerError)
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


async def integrity_error(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": "The request conflicts with data already stored"}, status.HTTP_409_CONFLICT)


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TrackerError, tracker_error)
    app.add_exception_handler(IntegrityError, integrity_error)
