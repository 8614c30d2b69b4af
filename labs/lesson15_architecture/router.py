"""Routes: thin. Each one turns a request into a call of the service layer, and its answer into JSON."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from . import service
from .dependencies import DryRun, ProjectId, TaskId, UnitOfWorkDep
from .exceptions import error_responses
from .models import Status
from .schemas import ChangeRead, Person, ProjectCreate, ProjectRead, TaskCreate, TaskRead, Transition

projects_router = APIRouter(prefix="/projects", tags=["projects"])
tasks_router = APIRouter(prefix="/tasks", tags=["tasks"])

NOT_FOUND = error_responses(status.HTTP_404_NOT_FOUND)


@projects_router.post("", summary="Create a project", status_code=status.HTTP_201_CREATED)
def create_project(data: ProjectCreate, uow: UnitOfWorkDep) -> ProjectRead:
    return service.create_project(uow, data)


@projects_router.get("/{project_id}", summary="A project", responses=NOT_FOUND)
def read_project(project_id: ProjectId, uow: UnitOfWorkDep) -> ProjectRead:
    return service.get_project(uow, project_id)


@projects_router.post(
    "/{project_id}/tasks", summary="Add a task", status_code=status.HTTP_201_CREATED, responses=NOT_FOUND
)
def add_task(project_id: ProjectId, data: TaskCreate, uow: UnitOfWorkDep) -> TaskRead:
    """A new task starts as "todo"."""
    return service.add_task(uow, project_id, data)


@projects_router.get("/{project_id}/tasks", summary="The project's tasks", responses=NOT_FOUND)
def list_tasks(
    project_id: ProjectId,
    uow: UnitOfWorkDep,
    task_status: Annotated[Status | None, Query(alias="status")] = None,
    assignee: Annotated[Person | None, Query()] = None,
) -> list[TaskRead]:
    """The project's tasks, oldest first; only those with this `status`, or this `assignee`, when given."""
    return service.list_tasks(uow, project_id, task_status, assignee)


@tasks_router.get("/{task_id}", summary="A task", responses=NOT_FOUND)
def read_task(task_id: TaskId, uow: UnitOfWorkDep) -> TaskRead:
    return service.get_task(uow, task_id)


@tasks_router.post(
    "/{task_id}/transitions",
    summary="Move a task to another status",
    responses=error_responses(status.HTTP_404_NOT_FOUND, status.HTTP_409_CONFLICT, status.HTTP_503_SERVICE_UNAVAILABLE),
)
def move_task(task_id: TaskId, transition: Transition, uow: UnitOfWorkDep, dry_run: DryRun = False) -> TaskRead:
    """todo → doing → done, one step at a time, or doing → todo. Each move adds a row to the task's history."""
    return service.change_status(uow, task_id, transition.to, transition.by, dry_run=dry_run)


@tasks_router.get("/{task_id}/history", summary="Who changed the task's status, and when", responses=NOT_FOUND)
def read_history(task_id: TaskId, uow: UnitOfWorkDep) -> list[ChangeRead]:
    return service.history(uow, task_id)
