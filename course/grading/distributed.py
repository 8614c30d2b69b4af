"""Distributed grading: submissions travel as Celery tasks to ``course grade-node`` processes.

Each worker, on any machine with the course checkout, grades with the same sandbox
as ``course grade`` does locally and sends back plain outcomes, so the gradebook
is the same whoever graded.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from celery import Celery

from ..checks import select
from ..config import GRADING_QUEUE, SandboxLimits, SubmissionLimits
from .batch import Graded, GradeOptions, grade_all, refused_outcomes, take_in
from .reports import outcome_from_json

TASK = "course.grade_submission"


def make_app(broker: str, queue: str = GRADING_QUEUE) -> Celery:
    app = Celery("course-grading", broker=broker, backend=broker, set_as_current=False)
    app.conf.update(
        task_default_queue=queue,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,  # one submission at a time per worker process
        task_acks_late=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    app.task(name=TASK)(grade_submission)
    return app


def _options_to_json(options: GradeOptions) -> dict[str, Any]:
    data = asdict(options)
    data["hidden"] = None
    return data


def _options_from_json(data: dict[str, Any], hidden: Path | None) -> GradeOptions:
    limits = SandboxLimits(**data["limits"])
    submission_limits = SubmissionLimits(**data["submission_limits"])
    return GradeOptions(
        **{**data, "limits": limits, "submission_limits": submission_limits, "hidden": hidden, "jobs": 1}
    )


def _zip_directory(directory: Path) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and path.suffix != ".pyc":
                archive.write(path, path.relative_to(directory.parent).as_posix())
    return base64.b64encode(buffer.getvalue()).decode()


def grade_submission(name: str, labs_zip: str, options: dict[str, Any], hidden: dict[str, str]) -> dict[str, Any]:
    """The worker's task: unpack, grade in the sandbox, return the outcomes as plain data."""
    with tempfile.TemporaryDirectory(prefix="course-node-") as scratch:
        base = Path(scratch)
        archive = base / f"{name}.zip"  # the sender made the name safe; the zip's stem names it
        archive.write_bytes(base64.b64decode(labs_zip))
        hidden_dir = None
        if hidden:
            hidden_dir = base / "hidden"
            hidden_dir.mkdir(mode=0o700)
            for filename, text in hidden.items():
                (hidden_dir / Path(filename).name).write_text(text)
        graded = grade_all([archive], _options_from_json(options, hidden_dir))
    return {"outcomes": [asdict(outcome) for outcome in graded.outcomes], "shortfalls": graded.shortfalls}


def grade_distributed(
    paths: Sequence[Path],
    options: GradeOptions,
    broker: str,
    progress: Callable[[str], None] = lambda name: None,
    queue: str = GRADING_QUEUE,
) -> Graded:
    """Send every submission to the grading nodes of ``queue`` and gather their outcomes, in submission order."""
    app = make_app(broker, queue)
    hidden = {
        path.name: path.read_text() for path in sorted((options.hidden or Path("/nonexistent")).glob("test_lesson*.py"))
    }
    with tempfile.TemporaryDirectory(prefix="course-send-") as scratch:
        taken = take_in(paths, Path(scratch), options.submission_limits)
        pending = []
        for intake in taken:
            if intake.submission is not None:
                payload = _zip_directory(intake.submission.labs)
                arguments = [intake.name, payload, _options_to_json(options), hidden]
                pending.append((intake.name, app.send_task(TASK, args=arguments, queue=queue)))
        graded = Graded(refused_outcomes(taken, select(options.exercises or options.lessons), options))
        for name, result in pending:
            reply = result.get(timeout=options.submission_timeout + 120)
            graded.outcomes.extend(outcome_from_json(row) for row in reply["outcomes"])
            graded.shortfalls = sorted({*graded.shortfalls, *reply["shortfalls"]})
            progress(name)
    return graded


@contextlib.contextmanager
def grading_nodes(broker: str, queue: str, count: int) -> Iterator[None]:
    """``count`` ``course grade-node`` processes of this machine on ``queue``, stopped on leaving."""
    course = Path(sys.executable).parent / "course"
    nodes = [
        subprocess.Popen(
            [str(course), "grade-node", "--broker", broker, "--queue", queue],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for node in nodes:
            os.killpg(node.pid, signal.SIGTERM)
        for node in nodes:
            node.wait(60)
