"""The tables: the reports asked for, their deliveries by e-mail, and the alerts about failed reports.

A report's status and progress are not stored here: the worker reports them to Celery's
result backend, and the API reads them there by the report's ``task_id``.
"""

from datetime import date

from sqlmodel import Field

from .database import TableModel


class Report(TableModel, table=True):
    __tablename__ = "reports"

    id: int | None = Field(default=None, primary_key=True)
    date_from: date
    date_to: date
    priority: str = Field(max_length=10)
    # The id of the Celery task that builds it: the key to its state in the result backend.
    task_id: str | None = Field(default=None, max_length=36, unique=True)
    # Set by the monitor once the task has finished and any alert has been raised.
    settled: bool = Field(default=False, index=True)


class Delivery(TableModel, table=True):
    """A report sent by e-mail, in the background, after the request that asked for it."""

    __tablename__ = "deliveries"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="reports.id", ondelete="CASCADE", index=True)
    to: str = Field(max_length=320)
    status: str = Field(default="pending", max_length=10)  # pending, sent or failed
    error: str | None = Field(default=None, max_length=500)


class Alert(TableModel, table=True):
    """Raised by the API's monitor when a report's task has failed."""

    __tablename__ = "alerts"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="reports.id", ondelete="CASCADE", index=True)
    error: str = Field(max_length=500)
