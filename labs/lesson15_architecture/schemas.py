"""What the API accepts and returns."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from .models import Status

# Free text without NUL: PostgreSQL refuses it where SQLite stores it, so refuse it in both.
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
Person = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[^\x00]*$"), Field(examples=["ada"])]


class ProjectCreate(BaseModel):
    name: Name


class ProjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class TaskCreate(BaseModel):
    title: Title
    assignee: Person | None = None


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: int
    title: str
    assignee: str | None
    status: Status


class Transition(BaseModel):
    """Move a task to another status: ``to`` the new status, ``by`` who does it."""

    to: Status
    by: Person


class ChangeRead(BaseModel):
    """One row of a task's history."""

    model_config = ConfigDict(from_attributes=True)

    from_status: Status
    to_status: Status
    changed_by: str
    changed_at: datetime

    @field_validator("changed_at")
    @classmethod
    def in_utc(cls, value: datetime) -> datetime:
        """SQLite hands back times without a zone; they were stored in UTC."""
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
