"""Errors of the reports domain, and how the API reports them: ``{"detail": "..."}`` with a status code."""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from .schemas import ErrorResponse

ERROR_DESCRIPTIONS = {
    status.HTTP_404_NOT_FOUND: "No such report or delivery",
    status.HTTP_409_CONFLICT: "The report is not done: it is still being built, or it failed",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` that document these error statuses in the OpenAPI schema."""
    return {code: {"model": ErrorResponse, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


class ReportsError(Exception):
    """Something the client asked for that the API refuses, with a detail the client can act on."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ReportNotFound(ReportsError):
    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, report_id: int) -> None:
        super().__init__(f"Report {report_id} not found")


class DeliveryNotFound(ReportsError):
    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, delivery_id: int) -> None:
        super().__init__(f"Delivery {delivery_id} not found")


class ReportNotDone(ReportsError):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, report_id: int, report_status: str) -> None:
        super().__init__(f"Report {report_id} is {report_status}; only a report that is done has a result")


async def reports_error_handler(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": getattr(exc, "detail", str(exc))}, status_code=getattr(exc, "status_code", 400))


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ReportsError, reports_error_handler)
