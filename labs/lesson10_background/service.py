"""The reports: ask a worker to build one, and read its state, progress and result from the result backend.

Service functions take the request's session first; they add and flush, and the session
dependency commits.
"""

from collections.abc import Sequence
from typing import Any

from celery import Celery
from celery.result import AsyncResult
from sqlmodel import Session, col, select

from .config import Settings
from .exceptions import ReportNotDone, ReportNotFound
from .models import Alert, Report
from .schemas import Progress, ReportCreate, ReportRead, ReportStatus
from .tasks import BUILD_REPORT
from .warehouse import ReportError

# Celery's states, and what a client of the API calls them.
STATUSES: dict[str, ReportStatus] = {
    "PENDING": "queued",  # in a queue (Celery also says PENDING of ids it does not know)
    "STARTED": "running",  # a worker took it (task_track_started)
    "PROGRESS": "running",  # a state of our own: the worker reports how far it got
    "RETRY": "retrying",  # it failed, and waits for its next attempt
    "SUCCESS": "done",
    "FAILURE": "failed",
    "REVOKED": "failed",
}
UNEXPLAINED = "The report could not be built"


def create_report(session: Session, celery: Celery, settings: Settings, data: ReportCreate) -> ReportRead:
    """Store the report and send its task to a queue; a worker builds it later."""
    build = celery.tasks[BUILD_REPORT]
    args = (data.date_from.isoformat(), data.date_to.isoformat())
    report = Report(date_from=data.date_from, date_to=data.date_to, priority=data.priority)
    session.add(report)
    session.flush()  # the report gets its id, which the task needs
    # Exercise 10.4: Send a high-priority report to the priority queue, which has a worker of its own
    result = build.delay(report.id, *args)  # to the default queue: task_default_queue
    report.task_id = result.id
    session.flush()
    return _read(report, "queued", Progress(done=0, total=_days(report)), None)


def get_report(session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise ReportNotFound(report_id)
    return report


def report_status(session: Session, celery: Celery, report_id: int) -> ReportRead:
    """The report with its live status, progress and error, as the result backend has them."""
    report = get_report(session, report_id)
    result = _result_of(report, celery)
    # State and details in one read of the backend: read apart, the state could still say
    # PROGRESS while the details were already the finished CSV, and progress would drop to 0.
    meta = celery.backend.get_task_meta(result.id)
    status = STATUSES.get(meta["status"], "running")
    total = _days(report)
    progress: Progress | None = Progress(done=0, total=total)
    info = meta["result"]
    if status == "running" and isinstance(info, dict):
        progress = Progress(done=int(info.get("done", 0)), total=total)
    elif status == "done":
        progress = Progress(done=total, total=total)
    elif status == "failed":
        progress = None
    return _read(report, status, progress, failure_of(result) if status == "failed" else None)


def failure_of(result: AsyncResult) -> str:
    """Why a task failed: our own errors have messages a client may read; anything else stays unexplained."""
    error: Any = result.result
    return str(error) if isinstance(error, ReportError) and str(error) else UNEXPLAINED


def report_result(session: Session, celery: Celery, report_id: int) -> tuple[Report, str]:
    """The report and its CSV text; ReportNotDone unless it is done."""
    status = report_status(session, celery, report_id)
    if status.status != "done":
        raise ReportNotDone(report_id, status.status)
    report = get_report(session, report_id)
    return report, str(_result_of(report, celery).result)


def list_alerts(session: Session) -> Sequence[Alert]:
    return session.exec(select(Alert).order_by(col(Alert.id))).all()


def file_name(report: Report) -> str:
    return f"sales-{report.date_from.isoformat()}-{report.date_to.isoformat()}.csv"


def _result_of(report: Report, celery: Celery) -> AsyncResult:
    return AsyncResult(report.task_id or "", app=celery)


def _days(report: Report) -> int:
    return (report.date_to - report.date_from).days + 1


def _read(report: Report, status: ReportStatus, progress: Progress | None, error: str | None) -> ReportRead:
    return ReportRead.model_validate(
        {
            **report.model_dump(include={"id", "date_from", "date_to", "priority"}),
            "status": status,
            "progress": progress,
            "error": error,
        }
    )
