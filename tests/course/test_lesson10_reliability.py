"""Lesson 10 with real worker processes on Redis: what only services mode can show.

- A task acknowledged late survives a worker killed mid-task: once the visibility timeout has
  passed, another worker runs it again.
- Redis message priorities on one queue: with a prefetch of 1, priority 0 overtakes a backlog
  sent with priority 9, as soon as the task running now is done.
- ``celery inspect`` lists the lab's worker and the queue it consumes.

These need worker processes that share a broker, so they run wherever Redis and PostgreSQL
answer (in either mode), against the solutions, and are skipped where they do not.
"""

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from course import resources
from course.config import WORKER_START_TIMEOUT, Mode, get_settings
from course.harness import import_lab
from course.resources import RunResources, services_status, worker_command

LESSON = "lesson10_background"
WAIT = 20.0  # seconds any one thing below may take


@pytest.fixture
def services(solutions_tree: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunResources]:
    """A run of services mode, installed as this process's run while the test lasts."""
    settings = get_settings().model_copy(update={"mode": Mode.SERVICES})
    reachable, why = services_status(settings)
    if not reachable:
        if settings.services == "required":
            pytest.fail(f"COURSE_SERVICES=required but {why}")
        pytest.skip(why)
    run = RunResources(settings)
    monkeypatch.setattr(resources, "_resources", run)
    yield run
    run.close()


def lab_module(name: str) -> ModuleType:
    import_lab(LESSON)
    return importlib.import_module(f"labs.{LESSON}.{name}")


@contextmanager
def worker(
    run: RunResources, tree: Path, env: dict[str, str], queue: str, node: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``celery worker`` process of the lab's Celery app, on ``queue``, with the lab's settings in ``env``."""
    command = [sys.executable, "-m", *worker_command(f"labs.{LESSON}.celery_app:celery_app", queue, node)]
    process = subprocess.Popen(
        [*command, "--prefetch-multiplier", "1"],
        env={**run.child_env(), **env, "PYTHONPATH": str(tree)},
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(WORKER_START_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def until(condition: Callable[[], Any], what: str, within: float = WAIT) -> Any:
    deadline = time.monotonic() + within
    while not (value := condition()):
        assert time.monotonic() < deadline, f"waited {within:g} s for {what}"
        time.sleep(0.05)
    return value


def ready(celery: Any, node: str) -> bool:
    return bool(celery.control.ping(destination=[node], timeout=0.5))


def lab_settings(queue_prefix: str, **values: str) -> tuple[Any, dict[str, str]]:
    """The lab's Settings with these values, and the same as a worker's environment."""
    config = lab_module("config")
    env = {"REPORTS_QUEUE_PREFIX": queue_prefix, **{f"REPORTS_{key.upper()}": value for key, value in values.items()}}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        settings = config.Settings()
    return settings, settings.environment()


def test_a_task_acknowledged_late_runs_again_after_its_worker_is_killed(
    services: RunResources, solutions_tree: Path
) -> None:
    settings, env = lab_settings(f"{services.celery_queue}.acks", day_seconds="0.5", visibility_timeout="2")
    celery = lab_module("celery_app").create_celery(settings)
    journal = lab_module("journal").Journal(services.redis())
    queue = settings.queue
    with worker(services, solutions_tree, env, queue, f"first-{services.run_id}@course") as first:
        until(lambda: ready(celery, f"first-{services.run_id}@course"), "the first worker")
        result = celery.tasks["reports.build"].apply_async((1, "2024-03-01", "2024-03-06"), queue=queue)
        until(lambda: journal.attempts(result.id), "the first attempt to start")
        os.kill(first.pid, signal.SIGKILL)  # mid-task: no warm shutdown, no acknowledgement
        first.wait(WAIT)
    assert result.state in ("STARTED", "PROGRESS"), f"the killed attempt left {result.state}"
    time.sleep(2.5)  # the visibility timeout passes; the message is still unacknowledged
    with worker(services, solutions_tree, env, queue, f"second-{services.run_id}@course"):
        until(lambda: result.state == "SUCCESS", "the task to be run again and succeed", within=WAIT)
    attempts = journal.attempts(result.id)
    assert len(attempts) == 2, f"expected the task to start twice, once per worker: {attempts}"
    assert result.get(timeout=1).startswith("day,orders,revenue\n")
    with celery.connection_for_write() as connection:
        connection.default_channel.queue_delete(queue)


def test_redis_priority_zero_overtakes_a_backlog_with_a_prefetch_of_one(
    services: RunResources, solutions_tree: Path
) -> None:
    settings, env = lab_settings(f"{services.celery_queue}.priorities", day_seconds="0.2")
    celery = lab_module("celery_app").create_celery(settings)
    journal = lab_module("journal").Journal(services.redis())
    build, queue, node = celery.tasks["reports.build"], settings.queue, f"priorities-{services.run_id}@course"
    with worker(services, solutions_tree, env, queue, node):
        until(lambda: ready(celery, node), "the worker")
        backlog = [build.apply_async((n, "2024-03-01", "2024-03-03"), queue=queue, priority=9) for n in (1, 2, 3)]
        until(lambda: journal.attempts(backlog[0].id), "the backlog to start")
        urgent = build.apply_async((4, "2024-03-01", "2024-03-01"), queue=queue, priority=0)
        until(lambda: all(result.ready() for result in [*backlog, urgent]), "every task")
    started = {
        name: journal.attempts(result.id)[0]["started_at"]
        for name, result in [("first", backlog[0]), ("second", backlog[1]), ("third", backlog[2]), ("urgent", urgent)]
    }
    order = sorted(started, key=started.__getitem__)
    assert order == ["first", "urgent", "second", "third"], f"on Redis, priority 0 goes first: started {order}"
    with celery.connection_for_write() as connection:
        connection.default_channel.queue_delete(queue)


def test_celery_inspect_lists_the_worker_and_its_queue(services: RunResources, solutions_tree: Path) -> None:
    settings, env = lab_settings(f"{services.celery_queue}.inspect")
    celery = lab_module("celery_app").create_celery(settings)
    node = f"inspected-{services.run_id}@course"
    with worker(services, solutions_tree, env, settings.queue, node):
        until(lambda: ready(celery, node), "the worker")
        listed = subprocess.run(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                f"labs.{LESSON}.celery_app:celery_app",
                "inspect",
                "active_queues",
                "--destination",
                node,
                "--json",
                "--timeout",
                "2",
            ],
            env={**services.child_env(), **env, "PYTHONPATH": str(solutions_tree)},
            cwd=solutions_tree,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    queues = json.loads(listed.stdout.strip().splitlines()[-1])
    assert [queue["name"] for queue in queues[node]] == [settings.queue], queues
