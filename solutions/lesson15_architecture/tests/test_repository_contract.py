"""One contract, two repositories: every test here runs on the SQL repository and on the memory one.

The ``uow`` fixture is parametrized, so pytest runs each test twice. If the memory repository
passes the same tests as the SQL one, a unit test of the service layer may use it in place of a
database and still tell the truth. Run: ``pytest labs/lesson15_architecture/tests``.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..database import create_db_engine, reset_database
from ..exceptions import HistoryUnavailable, TransitionNotAllowed
from ..models import Project, Status, Task
from ..repository import MemoryStore
from ..schemas import TaskCreate
from ..service import add_task, change_status, get_task, history
from ..unit_of_work import MemoryUnitOfWork, SqlUnitOfWork, UnitOfWork

MakeUow = Callable[..., UnitOfWork]


@pytest.fixture(params=["sql", "memory"])
def make_uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeUow]:
    """A factory of units of work on one empty store: a SQLite file, or a MemoryStore."""
    if request.param == "memory":
        store = MemoryStore()
        yield lambda history_fails=False: MemoryUnitOfWork(store, history_fails=history_fails)
        return
    engine = create_db_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    reset_database(engine)
    yield lambda history_fails=False: SqlUnitOfWork(engine, history_fails=history_fails)
    engine.dispose()


def a_project(make_uow: MakeUow) -> int:
    with make_uow() as uow:
        project = uow.tasks.add_project(Project(name="Launch"))
        uow.commit()
        assert project.id is not None
        return project.id


def test_get_returns_none_for_an_unknown_id(make_uow: MakeUow) -> None:
    with make_uow() as uow:
        assert uow.tasks.get_task(999) is None
        assert uow.tasks.get_project(999) is None


def test_list_filters_and_keeps_the_order(make_uow: MakeUow) -> None:
    first, other = a_project(make_uow), a_project(make_uow)
    with make_uow() as uow:
        for title, project, assignee in [("a", first, "ada"), ("b", other, "ada"), ("c", first, None)]:
            uow.tasks.add_task(Task(project_id=project, title=title, assignee=assignee))
        uow.commit()
    with make_uow() as uow:
        assert [task.title for task in uow.tasks.list_tasks(first)] == ["a", "c"]
        assert [task.title for task in uow.tasks.list_tasks(first, assignee="ada")] == ["a"]
        assert uow.tasks.list_tasks(first, status=Status.DONE) == []


def test_nothing_is_kept_without_commit(make_uow: MakeUow) -> None:
    project = a_project(make_uow)
    with make_uow() as uow:
        uow.tasks.add_task(Task(project_id=project, title="forgotten"))
    with make_uow() as uow:
        assert uow.tasks.list_tasks(project) == []


def test_a_changed_copy_changes_nothing_stored(make_uow: MakeUow) -> None:
    task = add_task(make_uow(), a_project(make_uow), TaskCreate(title="Write"))
    with make_uow() as uow:
        loaded = uow.tasks.get_task(task.id)
        assert loaded is not None
        loaded.status = Status.DONE  # changed, never saved nor committed
    assert get_task(make_uow(), task.id).status == Status.TODO


def test_a_change_and_its_history_are_kept_together(make_uow: MakeUow) -> None:
    task = add_task(make_uow(), a_project(make_uow), TaskCreate(title="Write"))
    with pytest.raises(HistoryUnavailable):
        change_status(make_uow(history_fails=True), task.id, Status.DOING, "ada")
    assert get_task(make_uow(), task.id).status == Status.TODO
    assert history(make_uow(), task.id) == []
    change_status(make_uow(), task.id, Status.DOING, "ada")
    with pytest.raises(TransitionNotAllowed):
        change_status(make_uow(), task.id, Status.DOING, "ada")
    assert [(row.from_status, row.to_status, row.changed_by) for row in history(make_uow(), task.id)] == [
        (Status.TODO, Status.DOING, "ada")
    ]
