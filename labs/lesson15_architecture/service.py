"""The service layer: what the tracker does, in terms of a unit of work.

Each function is one use case and one transaction. It knows neither HTTP nor SQL: it gets a
``UnitOfWork`` (a database one, or a memory one in unit tests), loads through its repository,
applies the rules, and decides whether to ``commit()``. It raises the tracker's own errors, and
returns read models made inside the unit of work, so no caller ever touches a closed session.
"""

from datetime import UTC, datetime

from .exceptions import ProjectNotFound, TaskNotFound, TransitionNotAllowed
from .models import Project, Status, StatusChange, Task
from .schemas import ChangeRead, ProjectCreate, ProjectRead, TaskCreate, TaskRead
from .unit_of_work import UnitOfWork

# Where each status may go next: forward one step at a time, or back from doing to todo.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.TODO: (Status.DOING,),
    Status.DOING: (Status.DONE, Status.TODO),
    Status.DONE: (),
}


def create_project(uow: UnitOfWork, data: ProjectCreate) -> ProjectRead:
    with uow:
        project = uow.tasks.add_project(Project(name=data.name))
        uow.commit()
        return ProjectRead.model_validate(project)


def get_project(uow: UnitOfWork, project_id: int) -> ProjectRead:
    with uow:
        project = uow.tasks.get_project(project_id)
        if project is None:
            raise ProjectNotFound(project_id)
        return ProjectRead.model_validate(project)


def add_task(uow: UnitOfWork, project_id: int, data: TaskCreate) -> TaskRead:
    with uow:
        if uow.tasks.get_project(project_id) is None:
            raise ProjectNotFound(project_id)
        task = uow.tasks.add_task(Task(project_id=project_id, title=data.title, assignee=data.assignee))
        uow.commit()
        return TaskRead.model_validate(task)


def list_tasks(uow: UnitOfWork, project_id: int, status: Status | None, assignee: str | None) -> list[TaskRead]:
    with uow:
        if uow.tasks.get_project(project_id) is None:
            raise ProjectNotFound(project_id)
        tasks = uow.tasks.list_tasks(project_id, status=status, assignee=assignee)
        return [TaskRead.model_validate(task) for task in tasks]


def get_task(uow: UnitOfWork, task_id: int) -> TaskRead:
    with uow:
        task = uow.tasks.get_task(task_id)
        if task is None:
            raise TaskNotFound(task_id)
        return TaskRead.model_validate(task)


def change_status(uow: UnitOfWork, task_id: int, to: Status, by: str, *, dry_run: bool = False) -> TaskRead:
    """Move the task to ``to`` if the rules allow it, and record who did it, when, from what, to what.

    The change and its history row are one transaction: both are saved, or neither. With
    ``dry_run`` the whole change is made and checked, history included, then not committed.
    """
    with uow:
        task = uow.tasks.get_task(task_id)
        if task is None:
            raise TaskNotFound(task_id)
        # Exercise 15.3: Refuse a move TRANSITIONS does not allow; save the task and its history row together
        task.status = to
        uow.tasks.save_task(task)
        moved = TaskRead.model_validate(task)
        if not dry_run:
            uow.commit()
        return moved


def history(uow: UnitOfWork, task_id: int) -> list[ChangeRead]:
    with uow:
        if uow.tasks.get_task(task_id) is None:
            raise TaskNotFound(task_id)
        return [ChangeRead.model_validate(change) for change in uow.tasks.changes_of(task_id)]
