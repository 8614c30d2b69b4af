"""Distributed grading: submissions travel as Celery tasks to ``course grade-worker`` processes.

Each worker, on any machine with the course checkout, grades with the same sandbox
as ``course grade`` does locally and sends back plain outcomes, so the gradebook
is the same whoever graded.
"""

from __future__ import annotations

import base64
import io
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from celery import Celery

from . import QUEUE
from .reports import CheckOutcome
from .runner import GradeOptions, grade_all
from .sandbox import Limits
from .submission import materialise

TASK = "course.grade_submission"


def make_app(broker: str, queue: str = QUEUE) -> Celery:
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


def _zip_directory(directory: Path) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and path.suffix != ".pyc":
                archive.write(path, path.relative_to(directory.parent).as_posix())
    return base64.b64encode(buffer.getvalue()).decode()


def grade_submission(name: str, labs_zip: str, options: dict[str, Any], hidden: dict[str, str]) -> list[dict[str, Any]]:
    """The worker's task: unpack, grade in the sandbox, return the outcomes as plain data."""
    with tempfile.TemporaryDirectory(prefix="course-worker-") as scratch:
        base = Path(scratch)
        archive = base / f"{name}.zip"  # the sender made the name safe; the zip's stem names it
        archive.write_bytes(base64.b64decode(labs_zip))
        hidden_dir = None
        if hidden:
            hidden_dir = base / "hidden"
            hidden_dir.mkdir(mode=0o700)
            for filename, text in hidden.items():
                (hidden_dir / Path(filename).name).write_text(text)
        grade_options = GradeOptions(
            **{**options, "limits": Limits(**options["limits"]), "hidden": hidden_dir, "jobs": 1}
        )
        outcomes = grade_all([archive], grade_options)
    return [asdict(outcome) for outcome in outcomes]


def grade_distributed(
    paths: Sequence[Path],
    options: GradeOptions,
    broker: str,
    progress: Callable[[str], None] = lambda name: None,
    queue: str = QUEUE,
) -> list[CheckOutcome]:
    """Send every submission to the workers of ``queue`` and gather their outcomes, in submission order."""
    app = make_app(broker, queue)
    hidden = {path.name: path.read_text() for path in sorted((options.hidden or Path("/nonexistent")).glob("test_lesson*.py"))}
    names = [field.name for field in fields(CheckOutcome)]
    with tempfile.TemporaryDirectory(prefix="course-send-") as scratch:
        pending = []
        for index, path in enumerate(paths):
            submission = materialise(path, Path(scratch) / f"{index:04d}")
            payload = _zip_directory(submission.labs)
            result = app.send_task(TASK, args=[submission.name, payload, _options_to_json(options), hidden], queue=queue)
            pending.append((submission.name, result))
        outcomes: list[CheckOutcome] = []
        for name, result in pending:
            rows = result.get(timeout=options.submission_timeout + 120)
            outcomes.extend(CheckOutcome(**{key: row[key] for key in names}) for row in rows)
            progress(name)
    return outcomes
