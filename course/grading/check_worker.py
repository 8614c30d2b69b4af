"""A check worker: a trusted pytest process that grades job after job from a queue.

Starting pytest and collecting the checks costs more than grading one lesson, so a
worker does it once and then runs the collected checks again for every job it
claims. A job is one lesson of one submission; a submission's lessons run on all
workers at once. The worker installs the sandboxed backend (``SandboxedLabs``) in the
harness, so learner code never runs here, and runs each job's public checks as one
owner and its hidden checks as another, after them: a lab that remembers what the
hidden checks sent can tell only the hidden checks, which feedback shows by title.

A job is a JSON file in the queue directory; a worker claims one by renaming it into
its own directory, which only one worker can win, and marks it done by writing the
done file the job names.
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

from ..compat import forget_report_sections, teardown_all
from ..config import LAB_START_TIMEOUT, ROOT_ENV, SUBMISSION_TIMEOUT, SandboxLimits
from ..harness import AppReport, use_backend
from ..layout import lesson_of_module
from ..pytest_plugin import APP_REPORT, exercise_of, reset_report
from ..resources import reset_resources
from .sandbox_client import HostFailure, ZygoteClient
from .sandboxed_labs import SandboxedLabs

READY_TIMEOUT = 120.0
HIDDEN_PACKAGE = "hidden_checks"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("course-grading", "FastAPI Course Lab grading")
    group.addoption("--grade-queue", metavar="DIR", help="grade the jobs queued as JSON files in DIR")
    group.addoption("--grade-claims", metavar="DIR", help="move claimed jobs into DIR")
    group.addoption("--grade-zygote", metavar="SOCKET", help="the sandbox server's socket")
    group.addoption("--grade-ready", metavar="FILE", help="a file that exists once the sandbox server answers")
    group.addoption("--grade-limits", metavar="JSON", default="{}", help="the sandbox limits, as JSON")
    group.addoption("--grade-start-timeout", type=float, default=LAB_START_TIMEOUT, metavar="SECONDS")
    group.addoption("--grade-submission-timeout", type=float, default=SUBMISSION_TIMEOUT, metavar="SECONDS")


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


def is_hidden(item: pytest.Item) -> bool:
    return getattr(getattr(item, "module", None), "__name__", "").startswith(f"{HIDDEN_PACKAGE}.")


def _lesson_of(item: pytest.Item) -> str | None:
    lesson = lesson_of_module(getattr(getattr(item, "module", None), "__name__", ""))
    return lesson.package if lesson else None


def submission_deadline(marker: Path, timeout: float) -> float:
    """When the submission's time is up: its lessons may run on several workers, one clock for all."""
    with contextlib.suppress(FileExistsError), open(marker, "x", encoding="utf-8") as first:
        first.write(str(time.time()))
    return float(marker.read_text(encoding="utf-8")) + timeout


def run_job(session: pytest.Session, labs: SandboxedLabs, job: dict[str, Any], timeout: float) -> str | None:
    """Run one lesson's collected checks against one submission; why it stopped early, if it did."""
    config = session.config
    os.environ[ROOT_ENV] = job["tree"]
    reset_report(config, job["report"])
    deadline = submission_deadline(Path(job["started"]), timeout)
    mine = [item for item in session.items if _lesson_of(item) == job["lesson"]]
    if "exercises" in job:  # narrowed to some of the lesson's exercises, as ``--course-exercise`` would
        mine = [item for item in mine if (marker := exercise_of(item)) and marker[0] in job["exercises"]]
    public = [item for item in mine if not is_hidden(item)]
    hidden = [item for item in mine if is_hidden(item)]
    try:
        for suffix, items in (("public", public), ("hidden", hidden)):
            if not items:
                continue
            labs.begin(f"{job['owner']}:{suffix}", Path(job["tree"]), Path(job["labs"]))
            reset_resources()  # the databases the checks make belong to this owner, and go with it
            for index, item in enumerate(items):
                if time.time() > deadline:
                    teardown_all(session)
                    return f"Timeout: the submission's checks did not finish within {timeout:g} s"
                item.stash[APP_REPORT] = AppReport()
                forget_report_sections(item)
                next_item = items[index + 1] if index + 1 < len(items) else None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=next_item)
            labs.end()
    except HostFailure as failure:  # the sandbox server itself failed this submission
        return f"the sandbox failed: {failure}"
    finally:
        labs.end()
        reset_resources()
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    config = session.config
    queue = config.getoption("grade_queue")
    if not queue:
        return None
    if session.testsfailed:
        raise session.Interrupted(f"{session.testsfailed} check module(s) could not be collected")
    timeout = config.getoption("grade_submission_timeout")
    ready, deadline = Path(config.getoption("grade_ready")), time.monotonic() + READY_TIMEOUT
    while not ready.exists():  # the sandbox server imports while pytest starts
        if time.monotonic() > deadline:
            raise session.Interrupted("the sandbox server did not start")
        time.sleep(0.02)
    limits = SandboxLimits(**json.loads(config.getoption("grade_limits")))
    labs = SandboxedLabs(
        ZygoteClient(config.getoption("grade_zygote")), limits, config.getoption("grade_start_timeout")
    )
    use_backend(labs)
    try:
        for claimed in claimed_jobs(Path(queue), Path(config.getoption("grade_claims"))):
            job = json.loads(claimed.read_text(encoding="utf-8"))
            started = time.monotonic()
            reason = run_job(session, labs, job, timeout)
            done = {"reason": reason, "seconds": time.monotonic() - started}
            Path(job["done"]).write_text(json.dumps(done), encoding="utf-8")
    finally:
        use_backend(None)
        reset_report(config, None)
    return True
