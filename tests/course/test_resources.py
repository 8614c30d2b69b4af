"""Per-run isolation in both modes: a database, Redis keys and a Celery queue of its own."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
import sqlalchemy

from course import resources
from course.config import CourseSettings, Mode, get_settings
from course.resources import MEMORY_FS_ROOM, RunResources, _plain_postgres_url, scratch_root, services_status


def _settings(mode: str) -> CourseSettings:
    settings = get_settings().model_copy(update={"mode": Mode(mode)})
    if mode == "services":
        reachable, why = services_status(settings)
        if not reachable:
            if settings.services == "required":
                pytest.fail(f"COURSE_SERVICES=required but {why}")
            pytest.skip(why)
    return settings


@pytest.fixture(params=["embedded", "services"])
def run(request: pytest.FixtureRequest) -> Iterator[RunResources]:
    resources = RunResources(_settings(request.param))
    yield resources
    resources.close()


def test_each_run_gets_its_own_database_and_removes_it(run: RunResources) -> None:
    other = RunResources(run.settings)
    try:
        assert run.database_url() != other.database_url() != run.new_database("migrations")
        assert run.database_url() == run.database_url(), "the URL is created once per run"
        engine = sqlalchemy.create_engine(run.database_url())
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("CREATE TABLE note (body TEXT)"))
            conn.execute(sqlalchemy.text("INSERT INTO note VALUES ('kept')"))
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT body FROM note")).scalar_one() == "kept"
        engine.dispose()
    finally:
        other.close()
    if run.services:
        name = run.database_url().rsplit("/", 1)[1]
        run.close()
        with psycopg.connect(_plain_postgres_url(run.settings.database_url)) as conn:
            left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).fetchone()
        assert left == (0,), f"database {name} was not dropped"


async def test_redis_keys_carry_the_run_prefix_and_are_removed(run: RunResources) -> None:
    client, async_client = run.redis(), run.async_redis()
    key = f"{run.key_prefix}greeting"
    client.set(key, "hello")
    assert await async_client.get(key) == "hello", "sync and async clients share one store"
    await async_client.aclose()
    client.close()
    run.close()
    if run.services:
        fresh = RunResources(run.settings)
        with fresh.redis() as check:
            assert check.get(key) is None, "the run's keys outlive it"
        fresh.close()


def test_a_task_runs_on_the_runs_own_worker(run: RunResources) -> None:
    from tests.course.celery_tasks import make_app

    app = make_app(run)
    with run.celery_worker(app, "tests.course.celery_tasks:celery_app"):
        assert app.send_task("add", (2, 3)).get(timeout=15) == 5
    assert run.celery_config()["task_default_queue"] == f"course.{run.run_id}"


def test_a_child_process_inherits_the_run_and_owns_nothing(run: RunResources, monkeypatch: pytest.MonkeyPatch) -> None:
    url = run.database_url()
    for key, value in run.child_env().items():
        monkeypatch.setenv(key, value)
    child = RunResources(run.settings)
    assert (child.run_id, child.database_url(), child.owner) == (run.run_id, url, False)
    child.close()  # must not drop the parent's database
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text("SELECT 1"))
    engine.dispose()


def test_unreachable_services_are_named() -> None:
    settings = CourseSettings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/postgres")
    reachable, why = services_status(settings)
    assert not reachable and "PostgreSQL at" in why
    settings = CourseSettings(redis_url="redis://127.0.0.1:1/0")
    if services_status(get_settings())[0]:
        reachable, why = services_status(settings)
        assert not reachable and "Redis at" in why


def test_a_run_keeps_its_files_where_told_else_in_memory_when_there_is_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    told = RunResources(get_settings().model_copy(update={"scratch": tmp_path}))
    assert told.tmpdir.parent == tmp_path and told.new_database("any", sqlite=True).startswith(f"sqlite:///{tmp_path}/")
    told.close()
    settings = get_settings().model_copy(update={"scratch": None})
    room = {"free": MEMORY_FS_ROOM}
    monkeypatch.setattr(resources, "MEMORY_FS", tmp_path)  # a memory file system with room to spare
    monkeypatch.setattr(
        resources.shutil, "disk_usage", lambda path: SimpleNamespace(total=0, used=0, free=room["free"])
    )
    assert scratch_root(settings) == tmp_path
    room["free"] -= 1  # a container's small /dev/shm
    assert scratch_root(settings) is None
    monkeypatch.setattr(resources, "MEMORY_FS", tmp_path / "absent")
    assert scratch_root(settings) is None


def test_a_new_run_removes_the_scratch_of_runs_whose_process_is_gone(tmp_path: Path) -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    orphan = tmp_path / f"course-{ended.pid}x0a1b2c-dead"
    (orphan / "lesson01_endpoints-1").mkdir(parents=True)
    (orphan / "lesson01_endpoints-1" / "db.sqlite").write_bytes(b"left by a killed kernel")
    alive = tmp_path / f"course-{os.getpid()}x0a1b2c-live"
    alive.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / f"course-{ended.pid}x0a1b2c-link").symlink_to(elsewhere)
    run = RunResources(get_settings().model_copy(update={"scratch": tmp_path}))
    try:
        assert run.tmpdir.exists()
        assert not orphan.exists(), "the scratch of a run whose process is gone stayed"
        assert alive.exists() and elsewhere.exists(), "a live run's scratch, or a link's target, was removed"
        assert (tmp_path / f"course-{ended.pid}x0a1b2c-link").is_symlink()
    finally:
        run.close()
