"""Repositories: the one place that knows where projects, tasks and their history are stored.

``Repository`` is the interface, a ``Protocol``: any class with these methods is one, no base
class needed. ``SqlRepository`` keeps the data in the database through a SQLModel session;
``MemoryRepository`` keeps it in dicts, for fast unit tests. The contract both keep:

- ``add_*`` gives the object its id and returns it; ``save_task`` stores a changed task.
- ``get_*`` returns the object with this id, or None: never an error for an unknown id.
- ``list_tasks`` returns the tasks of one project, oldest first, filtered by status and
  assignee when they are given.
- Nothing is ever committed here: a repository writes into the transaction of its unit of work.
"""

import itertools
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlmodel import Session, col, select

from .exceptions import HistoryUnavailable
from .models import Project, StatusChange, Task


class Repository(Protocol):
    def add_project(self, project: Project) -> Project: ...
    def get_project(self, project_id: int) -> Project | None: ...
    def add_task(self, task: Task) -> Task: ...
    def get_task(self, task_id: int) -> Task | None: ...
    def save_task(self, task: Task) -> None: ...
    def list_tasks(self, project_id: int, *, status: str | None = None, assignee: str | None = None) -> list[Task]: ...
    def add_change(self, change: StatusChange) -> StatusChange: ...
    def changes_of(self, task_id: int) -> list[StatusChange]: ...


class SqlRepository:
    """The data in the database, through the unit of work's session. It flushes, and never commits."""

    def __init__(self, session: Session, *, history_fails: bool = False) -> None:
        self.session = session
        self.history_fails = history_fails  # tests only: Settings.history_fails

    def add_project(self, project: Project) -> Project:
        self.session.add(project)
        self.session.flush()  # the INSERT runs now, inside the transaction, and the project gets its id
        return project

    def get_project(self, project_id: int) -> Project | None:
        return self.session.get(Project, project_id)

    def add_task(self, task: Task) -> Task:
        self.session.add(task)
        self.session.flush()
        return task

    def get_task(self, task_id: int) -> Task | None:
        return self.session.get(Task, task_id)

    def save_task(self, task: Task) -> None:
        self.session.add(task)
        self.session.flush()

    def list_tasks(self, project_id: int, *, status: str | None = None, assignee: str | None = None) -> list[Task]:
        # BEGIN SOLUTION 15.1: The project's tasks in id order, filtered by status and assignee when given
        query = select(Task).where(Task.project_id == project_id)
        if status is not None:
            query = query.where(Task.status == status)
        if assignee is not None:
            query = query.where(Task.assignee == assignee)
        return list(self.session.exec(query.order_by(col(Task.id))))
        # STUB
        # return list(self.session.exec(select(Task)))
        # END SOLUTION

    def add_change(self, change: StatusChange) -> StatusChange:
        if self.history_fails:
            raise HistoryUnavailable()
        self.session.add(change)
        self.session.flush()
        return change

    def changes_of(self, task_id: int) -> list[StatusChange]:
        query = select(StatusChange).where(StatusChange.task_id == task_id).order_by(col(StatusChange.id))
        return list(self.session.exec(query))


@dataclass
class MemoryStore:
    """The committed data of the memory repository: what every unit of work starts from."""

    projects: dict[int, Project] = field(default_factory=dict)
    tasks: dict[int, Task] = field(default_factory=dict)
    changes: dict[int, StatusChange] = field(default_factory=dict)
    ids: dict[str, "itertools.count[int]"] = field(default_factory=lambda: defaultdict(lambda: itertools.count(1)))
    lock: threading.Lock = field(default_factory=threading.Lock)


Stored = TypeVar("Stored", Project, Task, StatusChange)


def _copy(item: Stored) -> Stored:
    """A copy that shares nothing with ``item``: changing one never changes the other."""
    return type(item)(**item.model_dump())


class MemoryRepository:
    """The data in dicts. Writes wait in ``pending`` until the unit of work commits them to the store.

    Every object it hands out is a copy: a caller who changes one has changed nothing stored
    until ``save_task`` and a commit, just as with a database.
    """

    def __init__(self, store: MemoryStore, *, history_fails: bool = False) -> None:
        self.store = store
        self.history_fails = history_fails  # tests only: Settings.history_fails
        self.pending_projects: dict[int, Project] = {}
        self.pending_tasks: dict[int, Task] = {}
        self.pending_changes: dict[int, StatusChange] = {}

    def _new_id(self, table: str) -> int:
        with self.store.lock:
            return next(self.store.ids[table])  # like a database sequence: an id is never handed out twice

    def add_project(self, project: Project) -> Project:
        project.id = self._new_id("projects")
        self.pending_projects[project.id] = _copy(project)
        return project

    def get_project(self, project_id: int) -> Project | None:
        found = self.pending_projects.get(project_id, self.store.projects.get(project_id))
        return _copy(found) if found is not None else None

    def add_task(self, task: Task) -> Task:
        task.id = self._new_id("tasks")
        self.pending_tasks[task.id] = _copy(task)
        return task

    def get_task(self, task_id: int) -> Task | None:
        # BEGIN SOLUTION 15.4: A copy of the task (pending first, then stored), or None
        found = self.pending_tasks.get(task_id, self.store.tasks.get(task_id))
        return _copy(found) if found is not None else None
        # END SOLUTION

    def save_task(self, task: Task) -> None:
        assert task.id is not None, "save_task stores a task that was added before"
        self.pending_tasks[task.id] = _copy(task)

    def list_tasks(self, project_id: int, *, status: str | None = None, assignee: str | None = None) -> list[Task]:
        # BEGIN SOLUTION 15.4: Copies of the project's tasks in id order, filtered as SqlRepository.list_tasks
        tasks = {**self.store.tasks, **self.pending_tasks}
        return [
            _copy(task)
            for _, task in sorted(tasks.items())
            if task.project_id == project_id
            and (status is None or task.status == status)
            and (assignee is None or task.assignee == assignee)
        ]
        # END SOLUTION

    def add_change(self, change: StatusChange) -> StatusChange:
        if self.history_fails:
            raise HistoryUnavailable()
        change.id = self._new_id("status_changes")
        self.pending_changes[change.id] = _copy(change)
        return change

    def changes_of(self, task_id: int) -> list[StatusChange]:
        changes = {**self.store.changes, **self.pending_changes}
        return [_copy(change) for _, change in sorted(changes.items()) if change.task_id == task_id]

    def commit(self) -> None:
        """Move the pending writes into the store, all at once (the unit of work calls this)."""
        with self.store.lock:
            self.store.projects.update(self.pending_projects)
            self.store.tasks.update(self.pending_tasks)
            self.store.changes.update(self.pending_changes)
        self.rollback()

    def rollback(self) -> None:
        self.pending_projects.clear()
        self.pending_tasks.clear()
        self.pending_changes.clear()
