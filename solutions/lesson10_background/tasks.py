"""The Celery task that builds a report, and the base class that watches it on the worker.

A task runs in a worker, never in the API: it gets plain JSON arguments (ids, ISO dates),
never objects of the API such as a session or an ORM row, and it returns JSON (here the
report as CSV text), which Celery stores in the result backend under the task's id.
"""

import csv
import io
import logging
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from celery import Celery, Task

from course.resources import get_resources

from .config import Settings
from .journal import Journal
from .warehouse import DaySales, Warehouse, WarehouseUnavailable

BUILD_REPORT = "reports.build"
log = logging.getLogger(__name__)


class ReportTask(Task):
    """Failure handling on the worker side: hooks Celery calls around every attempt.

    They run in the worker, at once, with the exception in hand; they can reach what the
    worker reaches (Redis, logs), not the API's database. A worker that is killed runs none.
    """

    settings: Settings  # set when the task is registered: see ``register``

    @cached_property
    def journal(self) -> Journal:
        return Journal(get_resources().redis())

    def before_start(self, task_id: str, args: Any, kwargs: Any) -> None:
        self.journal.started(task_id, number=self.request.retries + 1)

    def on_retry(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        self.journal.ended(task_id, exc)

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        self.journal.ended(task_id, exc)
        log.error("report %s failed in task %s: %s", args[0] if args else "?", task_id, exc)


def build_report(self: ReportTask, report_id: int, date_from: str, date_to: str) -> str:
    """Read the sales of every day of the period, reporting progress as it goes; return them as CSV.

    ``report_id`` is not needed to build the report: it is there for whoever reads the task,
    in the worker's log or in Flower.
    """
    settings = self.settings
    warehouse = Warehouse(settings.day_seconds, settings.warehouse_outage, settings.data_since)
    first, last = date.fromisoformat(date_from), date.fromisoformat(date_to)
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    try:
        warehouse.connect(attempt=self.request.retries)
    except WarehouseUnavailable as error:
        # BEGIN SOLUTION 10.2: Retry after REPORTS_RETRY_DELAY × 2**n seconds (n retries so far), keeping the error
        raise self.retry(exc=error, countdown=settings.retry_delay * 2**self.request.retries) from error
        # END SOLUTION
    sales: list[DaySales] = []
    for day in days:
        sales.append(warehouse.sales_on(day))
        # A state of our own, with its details: the API reads both from the result backend.
        self.update_state(state="PROGRESS", meta={"done": len(sales), "total": len(days)})
    return to_csv(sales)


def to_csv(sales: list[DaySales]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["day", "orders", "revenue"])
    writer.writerows([day.day.isoformat(), day.orders, f"{day.revenue:.2f}"] for day in sales)
    writer.writerow(["total", sum(day.orders for day in sales), f"{sum(day.revenue for day in sales):.2f}"])
    return out.getvalue()


def register(celery: Celery, settings: Settings) -> None:
    """Make ``build_report`` a task of ``celery``; options given here become attributes of the task."""
    celery.task(
        bind=True,  # the task receives itself first: its request, retry() and update_state()
        base=ReportTask,
        name=BUILD_REPORT,
        settings=settings,
        max_retries=settings.max_retries,
        acks_late=True,  # acknowledged when done: a worker that dies mid-task leaves it to another
        reject_on_worker_lost=True,
        shared=False,  # a task of this Celery app only, not of every app created later in the process
    )(build_report)
