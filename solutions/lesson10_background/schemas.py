"""What the API accepts and returns."""

from datetime import date
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

# Ids are 32-bit integers in the database: a larger number can name no record.
MAX_ID = 2**31 - 1
# A report covers a quarter at most.
MAX_DAYS = 92

Priority = Literal["normal", "high"]
ReportStatus = Literal["queued", "running", "retrying", "done", "failed"]
DeliveryStatus = Literal["pending", "sent", "failed"]


class ReportCreate(BaseModel):
    """A sales report for the days from ``date_from`` to ``date_to``, both included."""

    date_from: date
    date_to: date
    priority: Priority = "normal"

    @model_validator(mode="after")
    def a_period_of_at_most_a_quarter(self) -> Self:
        if self.date_to < self.date_from:
            raise ValueError("date_to is before date_from")
        if (self.date_to - self.date_from).days + 1 > MAX_DAYS:
            raise ValueError(f"a report covers at most {MAX_DAYS} days")
        return self


class Progress(BaseModel):
    """How many of the report's days the worker has read so far."""

    done: int
    total: int


class ReportRead(BaseModel):
    id: int
    date_from: date
    date_to: date
    priority: Priority
    status: ReportStatus
    progress: Progress | None = Field(description="None once the report has failed")
    error: str | None = Field(description="Why the report failed")


class Attempt(BaseModel):
    """One run of the report's task on a worker, as the worker recorded it."""

    number: int
    started_at: float = Field(description="Seconds since the epoch, as the worker's clock says")
    error: str | None


class DeliveryCreate(BaseModel):
    to: EmailStr = Field(max_length=320)


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    report_id: int
    to: str
    status: DeliveryStatus
    error: str | None


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    report_id: int
    error: str


class ErrorResponse(BaseModel):
    detail: str
