"""A trusted pytest process that grades submission after submission from a queue.

Starting pytest and collecting the checks costs more than grading one lesson, so a
worker does it once and then runs the collected checks again for every submission
it claims. A job is one lesson of one submission, so a submission's lessons run on
all workers at once: ``COURSE_ROOT`` names the submission's tree, and each job's
report gets a file of its own. Learner code never runs here (the checks reach sandboxes through
``remote``), so one worker can grade many learners without any of them touching
another's results.

A job is a JSON file in the queue directory; a worker claims one by renaming it
into its own directory, which only one worker can win, and marks it done by
writing the done file the job names.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..layout import ROOT_ENV, lesson_of_module
from ..pytest_plugin import APP_ERRORS, reset_report
from . import SOCKET_ENV, remote
from .zygote import READY_ENV, Client


READY_TIMEOUT = 120.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("course-grading", "FastAPI Course Lab grading")
    group.addoption("--grade-queue", metavar="DIR", help="grade the submissions queued as JSON jobs in DIR")
    group.addoption("--grade-claims", metavar="DIR", help="move claimed jobs into DIR")
    group.addoption("--grade-submission-timeout", type=float, default=300.0, metavar="SECONDS")


def claimed_jobs(queue: Path, claims: Path) -> Iterator[Path]:
    """Claim queued jobs one at a time, in order, until none is left."""
    claims.mkdir(parents=True, exist_ok=True)
    while True:
        for job in sorted(queue.glob("*.json")):
            target = claims / job.name
            try:
                job.rename(target)
            except FileNotFoundError:  # another worker won it
                continue
            yield target
            break
        else:
            return


def _lesson_of(item: pytest.Item) -> str | None:
    return lesson_of_module(getattr(getattr(item, "module", None), "__name__", ""))


def submission_deadline(marker: Path, timeout: float) -> float:
    """When the submission's time is up: its lessons may run on several workers, one clock for all."""
    with contextlib.suppress(FileExistsError), open(marker, "x", encoding="utf-8") as first:
        first.write(str(time.time()))
    return float(marker.read_text(encoding="utf-8")) + timeout


def run_job(session: pytest.Session, job: dict[str, Any], timeout: float) -> str | None:
    """Run one lesson's collected checks against one submission; why it stopped early, if it did."""
    config = session.config
    owner = f"{job['name']}/{job['lesson']}"
    os.environ[ROOT_ENV] = job["tree"]
    os.environ[remote.OWNER_ENV] = owner
    reset_report(config, job["report"])
    deadline = submission_deadline(Path(job["started"]), timeout)
    items = [item for item in session.items if _lesson_of(item) == job["lesson"]]
    try:
        for index, item in enumerate(items):
            if time.time() > deadline:
                session._setupstate.teardown_exact(None)
                return f"Timeout: the submission's checks did not finish within {timeout:g} s"
            item.stash[APP_ERRORS] = []
            item._report_sections.clear()
            next_item = items[index + 1] if index + 1 < len(items) else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=next_item)
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            Client(os.environ[SOCKET_ENV]).request("kill_owner", owner=owner)
        remote.forget(owner)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    queue = session.config.getoption("grade_queue")
    if not queue:
        return None
    if session.testsfailed:
        raise session.Interrupted(f"{session.testsfailed} check module(s) could not be collected")
    timeout = session.config.getoption("grade_submission_timeout")
    ready, deadline = Path(os.environ[READY_ENV]), time.monotonic() + READY_TIMEOUT
    while not ready.exists():  # the sandbox server imports while pytest starts
        if time.monotonic() > deadline:
            raise session.Interrupted("the sandbox server did not start")
        time.sleep(0.02)
    for claimed in claimed_jobs(Path(queue), Path(session.config.getoption("grade_claims"))):
        job = json.loads(claimed.read_text(encoding="utf-8"))
        reason = run_job(session, job, timeout)
        Path(job["done"]).write_text(json.dumps({"reason": reason}), encoding="utf-8")
    reset_report(session.config, None)
    return True
