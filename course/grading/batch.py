"""A trusted pytest process that grades submission after submission from a queue.

Starting pytest and collecting the checks costs more than grading one lesson, so a
worker does it once and then runs the collected checks again for every submission
it claims: ``COURSE_ROOT`` names that submission's tree, and its report gets a file
of its own. Learner code never runs here (the checks reach sandboxes through
``remote``), so one worker can grade many learners without any of them touching
another's results.

A job is a JSON file in the queue directory; a worker claims one by renaming it
into its own directory, which only one worker can win, and marks it done by
writing ``done.json`` beside its report.
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

from ..layout import ROOT_ENV
from ..pytest_plugin import APP_ERRORS, reset_report
from . import remote
from .zygote import SOCKET_ENV, Client


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


def run_submission(session: pytest.Session, job: dict[str, Any], timeout: float) -> str | None:
    """Run every collected check against one submission; why it stopped early, if it did."""
    config = session.config
    os.environ[ROOT_ENV] = job["tree"]
    os.environ[remote.OWNER_ENV] = job["name"]
    reset_report(config, job["report"])
    deadline = time.monotonic() + timeout
    items = session.items
    try:
        for index, item in enumerate(items):
            if time.monotonic() > deadline:
                session._setupstate.teardown_exact(None)
                return f"Timeout: the submission's checks did not finish within {timeout:g} s"
            item.stash[APP_ERRORS] = []
            item._report_sections.clear()
            next_item = items[index + 1] if index + 1 < len(items) else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=next_item)
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            Client(os.environ[SOCKET_ENV]).request("kill_owner", owner=job["name"])
        remote.forget(job["name"])
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    queue = session.config.getoption("grade_queue")
    if not queue:
        return None
    if session.testsfailed:
        raise session.Interrupted(f"{session.testsfailed} check module(s) could not be collected")
    timeout = session.config.getoption("grade_submission_timeout")
    for claimed in claimed_jobs(Path(queue), Path(session.config.getoption("grade_claims"))):
        job = json.loads(claimed.read_text(encoding="utf-8"))
        reason = run_submission(session, job, timeout)
        Path(job["done"]).write_text(json.dumps({"reason": reason}), encoding="utf-8")
    reset_report(session.config, None)
    return True
