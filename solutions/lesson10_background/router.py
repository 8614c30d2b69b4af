"""Routes for reports and alerts.

Routes are plain ``def`` functions: the session, Celery's client and the result backend
are synchronous, and FastAPI runs ``def`` routes in a thread pool, so a call that waits
never blocks the event loop.
"""

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response, status

from . import service
from .dependencies import CeleryDep, JournalDep, ReportId, SessionDep, SettingsDep
from .exceptions import error_responses
from .models import Alert
from .schemas import AlertRead, Attempt, ReportCreate, ReportRead

router = APIRouter(tags=["reports"])


@router.post("/reports", status_code=status.HTTP_202_ACCEPTED, response_model=ReportRead)
def request_report(
    data: ReportCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    celery: CeleryDep,
    settings: SettingsDep,
) -> ReportRead:
    """Ask for a sales report. It is built later, by a worker: 202 Accepted, and where to follow it."""
    report = service.create_report(session, celery, settings, data)
    response.headers["Location"] = str(request.url_for("get_report", report_id=report.id))
    return report


@router.get("/reports/{report_id}", response_model=ReportRead, responses=error_responses(404))
def get_report(report_id: ReportId, session: SessionDep, celery: CeleryDep) -> ReportRead:
    """The report's status (queued, running, retrying, done or failed), its progress, and why it failed."""
    return service.report_status(session, celery, report_id)


@router.get(
    "/reports/{report_id}/download",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The report as CSV"},
        **error_responses(404, 409),
    },
)
def download_report(report_id: ReportId, session: SessionDep, celery: CeleryDep) -> Response:
    """The finished report as a CSV file; 409 while it is not done."""
    report, text = service.report_result(session, celery, report_id)
    disposition = f'attachment; filename="{service.file_name(report)}"'
    return Response(text, media_type="text/csv", headers={"Content-Disposition": disposition})


@router.get("/reports/{report_id}/attempts", response_model=list[Attempt], responses=error_responses(404))
def list_attempts(report_id: ReportId, session: SessionDep, journal: JournalDep) -> list[Attempt]:
    """Every attempt of the report's task so far, as its worker recorded it: when it started, and its error."""
    report = service.get_report(session, report_id)
    return [Attempt.model_validate(attempt) for attempt in journal.attempts(report.task_id or "")]


@router.get("/alerts", response_model=list[AlertRead])
def list_alerts(session: SessionDep) -> Sequence[Alert]:
    """The alerts the monitor raised: one per report that failed, oldest first."""
    return service.list_alerts(session)
