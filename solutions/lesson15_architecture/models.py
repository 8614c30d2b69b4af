"""The tables: projects, their tasks, and the history of every task's status."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Status(StrEnum):
    TODO = "todo"
    DOING = "doing"
    DONE = "done"


class TableModel(SQLModel, registry=registry()):
    """The base of this app's tables: a registry of its own, so a fresh import defines them anew."""


class Project(TableModel, table=True):
    __tablename__ = "projects"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)


class Task(TableModel, table=True):
    __tablename__ = "tasks"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    title: str = Field(max_length=200)
    assignee: str | None = Field(default=None, max_length=50)
    status: str = Field(default=Status.TODO, max_length=10)


class StatusChange(TableModel, table=True):
    """One row per change of a task's status: who changed it, when, from what, to what."""

    __tablename__ = "status_changes"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="tasks.id", index=True)
    from_status: str = Field(max_length=10)
    to_status: str = Field(max_length=10)
    changed_by: str = Field(max_length=50)
    changed_at: datetime = Field(sa_type=DateTime(timezone=True))
