"""Graded checks for lesson 15: a task tracker with a service layer, repositories and a unit of work.

Every check talks to the app over HTTP. Where a check must know what was saved, it gives the app
an empty database of its own (``TRACKER_DATABASE_URL``) and reads the ``tasks`` and
``status_changes`` tables once the app has stopped. ``TRACKER_HISTORY_FAILS`` makes every write to
the history fail, so that a check can see what became of the change it was meant to record;
``TRACKER_REPOSITORY=memory`` makes the app keep its data in memory, and the 15.4 checks run the
same scenarios on it.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import anyio.to_thread
import pytest
from httpx import AsyncClient
from sqlalchemy import text

from course.harness import outside_engine
from course.pytest_plugin import LabFactory
from course.resources import get_resources

from .expect import describe, expect_json, isolated_settings

hermetic_settings = isolated_settings("TRACKER_")

MEMORY = {"TRACKER_REPOSITORY": "memory"}
HISTORY_FAILS = {"TRACKER_HISTORY_FAILS": "true"}
# Clocks of the check and of the app are the same clock, read at other moments: allow a margin.
CLOCK_MARGIN = timedelta(seconds=1)


async def new_project(client: AsyncClient, name: str) -> int:
    response = await client.post("/projects", json={"name": name})
    project = expect_json(response, 201, "(a new project)")
    assert isinstance(project, dict) and isinstance(project.get("id"), int), f"{describe(response)}; expected an `id`"
    return int(project["id"])


async def new_task(client: AsyncClient, project_id: int, title: str, assignee: str | None = None) -> int:
    body: dict[str, Any] = {"title": title, **({"assignee": assignee} if assignee else {})}
    response = await client.post(f"/projects/{project_id}/tasks", json=body)
    task = expect_json(response, 201, "(a new task)")
    assert isinstance(task, dict) and isinstance(task.get("id"), int), f"{describe(response)}; expected an `id`"
    assert task.get("status") == "todo", f'{describe(response)}; expected a new task with "status": "todo"'
    return int(task["id"])


async def move(client: AsyncClient, task_id: int, to: str, by: str = "ada", what: str = "", **params: str) -> Any:
    """POST /tasks/{id}/transitions that the rules allow: the task as JSON."""
    response = await client.post(f"/tasks/{task_id}/transitions", json={"to": to, "by": by}, params=params)
    task = expect_json(response, 200, what or "(a move the rules allow)")
    assert isinstance(task, dict) and task.get("status") == to, f'{describe(response)}; expected "status": {to!r}'
    return task


async def status_of(client: AsyncClient, task_id: int) -> str:
    response = await client.get(f"/tasks/{task_id}")
    task = expect_json(response, 200)
    assert isinstance(task, dict) and "status" in task, f"{describe(response)}; expected a task with its `status`"
    return str(task["status"])


async def history_of(client: AsyncClient, task_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/tasks/{task_id}/history")
    rows = expect_json(response, 200)
    assert isinstance(rows, list) and all(isinstance(row, dict) for row in rows), (
        f"{describe(response)}; expected a JSON list of history rows"
    )
    return rows


def ids_of(body: Any) -> list[Any]:
    return (
        [task.get("id") for task in body] if isinstance(body, list) and all(isinstance(t, dict) for t in body) else []
    )


async def listed(client: AsyncClient, project_id: int, **params: str) -> tuple[list[Any], str]:
    response = await client.get(f"/projects/{project_id}/tasks", params=params)
    return ids_of(expect_json(response, 200)), describe(response)


def saved_rows(url: str) -> tuple[list[tuple[int, str]], list[tuple[int, str, str, str]]]:
    """(id, status) of every task and (task_id, from, to, by) of every history row, read from outside the app."""
    engine = outside_engine(url)
    try:
        with engine.connect() as connection:
            tasks = [(int(i), str(s)) for i, s in connection.execute(text("SELECT id, status FROM tasks ORDER BY id"))]
            query = text("SELECT task_id, from_status, to_status, changed_by FROM status_changes ORDER BY id")
            changes = [(int(t), str(f), str(to), str(by)) for t, f, to, by in connection.execute(query)]
            return tasks, changes
    finally:
        engine.dispose()


# --- scenarios: each runs on the SQL repository (15.1–15.3) and on the memory one (15.4) ------------------


async def only_the_projects_tasks_in_order(client: AsyncClient) -> None:
    launch = await new_project(client, "Launch")
    other = await new_project(client, "Other")
    zebra = await new_task(client, launch, "Zebra crossing")
    await new_task(client, other, "Not in Launch")
    apples = await new_task(client, launch, "Apples")
    mango = await new_task(client, launch, "Mango")
    ids, sent = await listed(client, launch)
    assert ids == [zebra, apples, mango], (
        f"{sent}; expected the ids {[zebra, apples, mango]}: the project's own tasks, oldest first; got {ids}"
    )
    ids, sent = await listed(client, other)
    assert len(ids) == 1, f"{sent}; expected the one task of project {other}; got the ids {ids}"
    for path in (f"/projects/{other + 999}/tasks", f"/tasks/{mango + 999}"):
        response = await client.get(path)
        body = expect_json(response, 404, "(no such project or task)")
        assert isinstance(body, dict) and isinstance(body.get("detail"), str), (
            f'{describe(response)}; expected {{"detail": "..."}}'
        )


async def filters_by_status_and_assignee(client: AsyncClient) -> None:
    launch = await new_project(client, "Launch")
    other = await new_project(client, "Other")
    write = await new_task(client, launch, "Write", "ada")
    await new_task(client, other, "Elsewhere", "ada")
    test = await new_task(client, launch, "Test", "ben")
    ship = await new_task(client, launch, "Ship", "ada")
    await move(client, test, "doing", what="(todo → doing is allowed)")
    expected: list[tuple[dict[str, str], list[int]]] = [
        ({"status": "todo"}, [write, ship]),
        ({"status": "doing"}, [test]),
        ({"status": "done"}, []),
        ({"assignee": "ada"}, [write, ship]),
        ({"assignee": "ben"}, [test]),
        ({"assignee": "ada", "status": "todo"}, [write, ship]),
        ({"assignee": "ben", "status": "todo"}, []),
        ({"assignee": "nobody"}, []),
    ]
    for params, ids_wanted in expected:
        ids, sent = await listed(client, launch, **params)
        assert ids == ids_wanted, f"{sent}; expected the ids {ids_wanted}, oldest first; got {ids}"


async def a_failed_history_write_changes_nothing(lab: LabFactory, env: Mapping[str, str]) -> int:
    """With every history write failing, a move is refused and the task keeps its status; the task's id."""
    async with lab(env={**env, **HISTORY_FAILS}) as client:
        project = await new_project(client, "Launch")
        task = await new_task(client, project, "Write")
        response = await client.post(f"/tasks/{task}/transitions", json={"to": "doing", "by": "ada"})
        body = expect_json(response, 503, "(the history cannot be written, so the move must not happen)")
        assert isinstance(body, dict) and isinstance(body.get("detail"), str), (
            f'{describe(response)}; expected {{"detail": "..."}}'
        )
        status = await status_of(client, task)
        assert status == "todo", (
            f"after a move whose history could not be written, GET /tasks/{task} shows {status!r}; expected 'todo':"
            " the change and its history row are one transaction"
        )
        rows = await history_of(client, task)
        assert rows == [], f"GET /tasks/{task}/history → {rows!r} after a failed move; expected []"
        return task


async def a_dry_run_saves_nothing(client: AsyncClient) -> int:
    """A dry run answers the moved task and saves nothing; a real move then saves it; the task's id."""
    project = await new_project(client, "Launch")
    task = await new_task(client, project, "Write")
    await move(client, task, "doing", what="(a dry run of an allowed move)", dry_run="true")
    status = await status_of(client, task)
    assert status == "todo", (
        f"after POST /tasks/{task}/transitions?dry_run=true, GET /tasks/{task} shows {status!r}; expected 'todo':"
        " a unit of work saves nothing unless the service calls commit()"
    )
    rows = await history_of(client, task)
    assert rows == [], f"GET /tasks/{task}/history → {rows!r} after a dry run; expected []"
    await move(client, task, "doing", by="ben")
    status = await status_of(client, task)
    assert status == "doing", f"after a real move to doing, GET /tasks/{task} shows {status!r}; expected 'doing'"
    rows = await history_of(client, task)
    assert len(rows) == 1, f"GET /tasks/{task}/history → {rows!r} after one real move; expected one row"
    return task


def parsed_time(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


async def each_move_is_recorded(client: AsyncClient) -> None:
    project = await new_project(client, "Launch")
    task = await new_task(client, project, "Write", "ada")
    back = await new_task(client, project, "Test", "ben")
    before = datetime.now(UTC)
    await move(client, task, "doing", by="ada")
    await move(client, back, "doing", by="ben")
    await move(client, back, "todo", by="cleo", what="(doing → todo is allowed: the task is put back)")
    await move(client, task, "done", by="ben")
    after = datetime.now(UTC)
    for task_id, wanted in (
        (task, [("todo", "doing", "ada"), ("doing", "done", "ben")]),
        (back, [("todo", "doing", "ben"), ("doing", "todo", "cleo")]),
    ):
        rows = await history_of(client, task_id)
        got = [(row.get("from_status"), row.get("to_status"), row.get("changed_by")) for row in rows]
        assert got == wanted, (
            f"GET /tasks/{task_id}/history → (from_status, to_status, changed_by) {got!r}; expected {wanted!r}"
        )
        for row in rows:
            moment = parsed_time(row.get("changed_at"))
            assert moment is not None and before - CLOCK_MARGIN <= moment <= after + CLOCK_MARGIN, (
                f"GET /tasks/{task_id}/history → `changed_at` {row.get('changed_at')!r}; expected an ISO time with its"
                f" zone, between {before.isoformat()} and {after.isoformat()} (the moves were made then)"
            )


async def forbidden_moves_are_refused(client: AsyncClient) -> None:
    project = await new_project(client, "Launch")
    task = await new_task(client, project, "Write")
    refused = [("todo", "done"), ("todo", "todo")]
    for state, to in refused:
        await refuse(client, task, state, to, 0)
    await move(client, task, "doing")
    await refuse(client, task, "doing", "doing", 1)
    await move(client, task, "done")
    for to in ("todo", "doing", "done"):
        await refuse(client, task, "done", to, 2)
    for body in ({"to": "archived", "by": "ada"}, {"to": "doing"}, {"to": "doing", "by": ""}):
        response = await client.post(f"/tasks/{task}/transitions", json=body)
        expect_json(response, 422, "(an unknown status, or nobody named in `by`)")
    response = await client.post(f"/tasks/{task + 999}/transitions", json={"to": "doing", "by": "ada"})
    expect_json(response, 404, "(no such task)")


async def refuse(client: AsyncClient, task: int, state: str, to: str, rows_before: int) -> None:
    response = await client.post(f"/tasks/{task}/transitions", json={"to": to, "by": "ada"})
    body = expect_json(response, 409, f"(a task that is {state} cannot move to {to})")
    assert isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"], (
        f'{describe(response)}; expected {{"detail": "..."}} saying why'
    )
    status = await status_of(client, task)
    assert status == state, f"after a refused move {state} → {to}, the task is {status!r}; expected {state!r}"
    rows = await history_of(client, task)
    assert len(rows) == rows_before, (
        f"after a refused move {state} → {to}, GET /tasks/{task}/history has {len(rows)} rows; expected"
        f" {rows_before}: a move that did not happen has no history"
    )


# --- 15.1: the SQL repository ----------------------------------------------------------------------------


@pytest.mark.exercise("15.1", points=2)
async def test_a_project_lists_its_own_tasks_oldest_first(client: AsyncClient) -> None:
    """GET /projects/{id}/tasks → 200 and that project's tasks only, oldest (lowest id) first, whatever their
    titles; GET /projects/{unknown}/tasks and GET /tasks/{unknown} → 404 with a `detail`."""
    await only_the_projects_tasks_in_order(client)


@pytest.mark.exercise("15.1", points=2)
async def test_tasks_filter_by_status_and_assignee(client: AsyncClient) -> None:
    """GET /projects/{id}/tasks?status=todo (or doing, or done) → only the project's tasks in that status;
    ?assignee=ada → only those assigned to ada; both at once → the tasks that match both; oldest first."""
    await filters_by_status_and_assignee(client)


# --- 15.2: the unit of work ------------------------------------------------------------------------------


@pytest.mark.exercise("15.2", points=3)
async def test_no_change_is_saved_without_its_history(lab: LabFactory) -> None:
    """With TRACKER_HISTORY_FAILS=true (every history write fails), POST /tasks/{id}/transitions {"to": "doing",
    "by": "ada"} → 503 with a `detail`, and the task is still "todo" with an empty history: over HTTP, and in the
    database (given in TRACKER_DATABASE_URL) once the app has stopped."""
    url = await anyio.to_thread.run_sync(get_resources().new_database, "lesson15-history-fails")
    task = await a_failed_history_write_changes_nothing(lab, {"TRACKER_DATABASE_URL": url})
    tasks, changes = await anyio.to_thread.run_sync(saved_rows, url)
    assert tasks == [(task, "todo")] and changes == [], (
        f"after the failed move, the database holds the tasks (id, status) {tasks!r} and the history rows {changes!r};"
        f" expected [({task}, 'todo')] and []: neither the change nor its history"
    )


@pytest.mark.exercise("15.2", points=3)
async def test_a_dry_run_commits_nothing(lab: LabFactory) -> None:
    """POST /tasks/{id}/transitions?dry_run=true {"to": "doing", "by": "ada"} → 200 with the task as it would be
    ("doing"), yet GET /tasks/{id} still shows "todo" and the history is empty; the same move without dry_run is
    saved with one history row. In the database (TRACKER_DATABASE_URL), once the app has stopped: the task is
    "doing" and the one history row is the real move's (by "ben")."""
    url = await anyio.to_thread.run_sync(get_resources().new_database, "lesson15-dry-run")
    async with lab(env={"TRACKER_DATABASE_URL": url}) as client:
        task = await a_dry_run_saves_nothing(client)
    tasks, changes = await anyio.to_thread.run_sync(saved_rows, url)
    assert tasks == [(task, "doing")] and changes == [(task, "todo", "doing", "ben")], (
        f"the database holds the tasks (id, status) {tasks!r} and the history rows (task_id, from, to, by)"
        f" {changes!r}; expected [({task}, 'doing')] and [({task}, 'todo', 'doing', 'ben')]"
    )


# --- 15.3: the service layer -----------------------------------------------------------------------------


@pytest.mark.exercise("15.3", points=3)
async def test_each_move_writes_who_when_from_and_to(client: AsyncClient) -> None:
    """todo → doing → done, and doing → todo, each → 200 with the new status; GET /tasks/{id}/history then lists
    one row per move, oldest first, with `from_status`, `to_status`, `changed_by` (the move's `by`) and
    `changed_at` (an ISO 8601 time with its zone, when the move was made)."""
    await each_move_is_recorded(client)


@pytest.mark.exercise("15.3", points=2)
async def test_a_move_and_its_history_are_one_transaction(lab: LabFactory) -> None:
    """With TRACKER_HISTORY_FAILS=true (every history write fails), POST /tasks/{id}/transitions {"to": "doing",
    "by": "ada"} → 503 with a `detail`; GET /tasks/{id} still shows "todo", and the history is empty."""
    await a_failed_history_write_changes_nothing(lab, {})


@pytest.mark.exercise("15.3", points=3)
async def test_a_move_the_rules_forbid_is_refused(client: AsyncClient) -> None:
    """todo → done (skipping doing), a move to the status a task has, and any move of a done task → 409 with a
    `detail`; the task keeps its status and gets no history row. An unknown status, or no `by`, → 422; an
    unknown task → 404."""
    await forbidden_moves_are_refused(client)


# --- 15.4: the memory repository, under the same contract ------------------------------------------------


@pytest.mark.exercise("15.4", points=2)
async def test_memory_lists_and_filters_like_sql(lab: LabFactory) -> None:
    """With TRACKER_REPOSITORY=memory: the 15.1 requirements, the same over HTTP (own tasks, oldest first, 404s,
    filters by status and assignee)."""
    async with lab(env=MEMORY) as client:
        await only_the_projects_tasks_in_order(client)
    async with lab(env=MEMORY) as client:
        await filters_by_status_and_assignee(client)


@pytest.mark.exercise("15.4", points=2)
async def test_memory_keeps_nothing_uncommitted(lab: LabFactory) -> None:
    """With TRACKER_REPOSITORY=memory: the 15.2 requirements over HTTP. A failed history write (with
    TRACKER_HISTORY_FAILS=true) leaves the task "todo" with no history; a dry run leaves the task as it was."""
    await a_failed_history_write_changes_nothing(lab, MEMORY)
    async with lab(env=MEMORY) as client:
        await a_dry_run_saves_nothing(client)


@pytest.mark.exercise("15.4", points=2)
async def test_memory_moves_and_history_like_sql(lab: LabFactory) -> None:
    """With TRACKER_REPOSITORY=memory: the 15.3 requirements over HTTP (allowed moves and their history rows,
    forbidden moves refused with 409 and no history)."""
    async with lab(env=MEMORY) as client:
        await each_move_is_recorded(client)
    async with lab(env=MEMORY) as client:
        await forbidden_moves_are_refused(client)
