"""``course grade``: grade many submissions in one batch, in parallel, each in its own sandboxes.

For every submission the grader builds a tree whose ``labs/`` is that submission
and whose other files come from the instructor's checkout. The checks run in a
trusted pytest process that never imports learner code: each check asks the zygote
for a fresh sandboxed app and talks to it over a unix socket. Scores come only from
the trusted process's own report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..checks import select
from ..layout import ROOT_ENV, Exercise, find_lesson, lesson_of_module
from ..tree import link_tree
from .remote import OWNER_ENV, START_TIMEOUT_ENV
from .reports import CheckOutcome, check_title
from .sandbox import Limits
from .submission import Submission, materialise
from .zygote import SOCKET_ENV, Zygote

HIDDEN_PACKAGE = "hidden_checks"


@dataclass
class GradeOptions:
    lessons: list[str] = field(default_factory=list)
    exercises: list[str] = field(default_factory=list)
    hidden: Path | None = None
    jobs: int = 2
    check_timeout: float = 10.0
    submission_timeout: float = 300.0
    limits: Limits = field(default_factory=Limits)


def _selected(options: GradeOptions) -> tuple[Exercise, ...]:
    return select(options.exercises or options.lessons)


def _hidden_modules(source: Path | None, base: Path) -> list[Path]:
    """A root-only copy of the instructor's hidden checks, as a package pytest can import."""
    if source is None:
        return []
    private = base / "trusted"
    private.mkdir(mode=0o700)
    package = private / HIDDEN_PACKAGE
    shutil.copytree(source, package, ignore=shutil.ignore_patterns("__pycache__", "conftest.py"))
    (package / "__init__.py").touch()
    return sorted(package.glob("test_lesson*.py"))


def _outcomes(name: str, report: Path, exercises: Sequence[Exercise], reason: str) -> list[CheckOutcome]:
    try:
        rows = json.loads(report.read_text(encoding="utf-8"))["checks"]
    except (OSError, ValueError, KeyError):
        rows = []
    outcomes = []
    seen = set()
    for row in rows:
        hidden = row["module"].startswith(f"{HIDDEN_PACKAGE}.")
        lesson = lesson_of_module(row["module"]) or ""
        status = "timeout" if row["message"].startswith("Timeout") else row["outcome"]
        seen.add((row["exercise"], row["name"], hidden))
        outcomes.append(
            CheckOutcome(
                learner=name, lesson=lesson, exercise=row["exercise"], check=row["name"],
                requirement=row["requirement"], points=row["points"], status=status, message=row["message"],
                duration=row["duration"], hidden=hidden, title=check_title(row["name"]) if hidden else "",
            )  # fmt: skip
        )
    for exercise in exercises:  # a check that never reported lost its points, and says why
        lesson = find_lesson(str(exercise.lesson)).package
        for check in exercise.checks:
            if (exercise.id, check.name, False) not in seen:
                outcomes.append(
                    CheckOutcome(name, lesson, exercise.id, check.name, check.requirement, check.points, "error", reason)
                )
    return outcomes


class Grader:
    def __init__(self, options: GradeOptions) -> None:
        self.options = options
        self.base = Path(tempfile.mkdtemp(prefix="course-grade-"))
        self.base.chmod(0o711)  # sandboxes pass through to their own directories only
        self.zygote = Zygote(self.base / "zygote", options.limits)
        self.hidden: list[Path] = []

    def __enter__(self) -> Grader:
        self.hidden = _hidden_modules(self.options.hidden, self.base)
        self.socket = self.zygote.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.zygote.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def prepare(self, index: int, path: Path) -> Submission:
        return materialise(path, self.base / "submissions" / f"{index:04d}")

    def grade(self, submission: Submission) -> list[CheckOutcome]:
        exercises = _selected(self.options)
        tree = self.base / "trees" / submission.name
        tree.mkdir(parents=True)
        tree.chmod(0o755)
        link_tree(tree, submission.labs)
        report = self.base / "trusted-reports" / f"{submission.name}.json"
        report.parent.mkdir(mode=0o700, exist_ok=True)
        modules = sorted({find_lesson(str(exercise.lesson)).check_module for exercise in exercises})
        # Hidden checks of the lessons being graded: same module names as the public ones.
        hidden = [str(path) for path in self.hidden if path.name in {Path(module).name for module in modules}]
        timeout = self.options.check_timeout
        command = [
            sys.executable, "-P", "-m", "pytest", "-q", "--no-header", "--noconftest",
            "-p", "anyio.pytest_plugin", "-p", "pytest_timeout", "-o", "console_output_style=classic",
            f"--course-check-timeout={timeout:g}", f"--timeout={timeout + 10:g}", "--timeout-method=thread",
            f"--course-report={report}", *modules, *hidden,
        ]  # fmt: skip
        if self.options.exercises:
            command += [f"--course-exercise={exercise.id}" for exercise in exercises]
        env = {**os.environ, ROOT_ENV: str(tree), SOCKET_ENV: str(self.zygote.path), OWNER_ENV: submission.name}
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        env["COURSE_MODE"] = "embedded"
        env[START_TIMEOUT_ENV] = f"{timeout:g}"
        reason = "the check did not report"
        try:
            subprocess.run(
                command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=self.options.submission_timeout,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            reason = f"Timeout: the submission's checks did not finish within {self.options.submission_timeout:g} s"
        finally:
            self.socket.request("kill_owner", owner=submission.name)
        return _outcomes(submission.name, report, exercises, reason)


def grade_all(
    paths: Sequence[Path],
    options: GradeOptions,
    progress: Callable[[str], None] = lambda name: None,
) -> list[CheckOutcome]:
    """Grade every submission; a broken one costs its own points only."""
    outcomes: list[CheckOutcome] = []
    with Grader(options) as grader:
        submissions = [grader.prepare(index, path) for index, path in enumerate(paths)]
        names = [submission.name for submission in submissions]
        duplicates = {name for name in names if names.count(name) > 1}
        if duplicates:
            raise ValueError(f"two submissions share a name: {', '.join(sorted(duplicates))}")

        def one(submission: Submission) -> list[CheckOutcome]:
            started = time.perf_counter()
            result = grader.grade(submission)
            progress(f"{submission.name} ({time.perf_counter() - started:.1f} s)")
            return result

        with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
            for result in pool.map(one, submissions):
                outcomes.extend(result)
    return outcomes
