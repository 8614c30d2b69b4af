"""``course grade``: grade many submissions in one batch, in parallel, each in its own sandboxes.

For every submission the grader builds a tree whose ``labs/`` is that submission
and whose other files come from the instructor's checkout. The checks run in
trusted pytest workers (``batch``) that never import learner code: each check asks
a sandboxed lab host for a fresh app and talks to it over a unix socket. Workers
take submissions from a queue, so pytest starts ``-j`` times per batch, not once per
learner. Scores come only from the trusted workers' own reports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..checks import select
from ..layout import Exercise, checkout_root, exercises_of, find_lesson, lesson_of_module
from ..tree import link_tree
from .remote import START_TIMEOUT_ENV
from .reports import CheckOutcome, check_title
from .sandbox import Limits
from .submission import Submission, materialise
from . import SOCKET_ENV
from .zygote import READY_ENV, Zygote

HIDDEN_PACKAGE = "hidden_checks"
POLL = 0.05
WORKER_EXIT = 30.0


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


def _hidden_modules(source: Path | None, private: Path) -> list[Path]:
    """A root-only copy of the instructor's hidden checks, as a package pytest can import."""
    if source is None:
        return []
    package = private / HIDDEN_PACKAGE
    shutil.copytree(source, package, ignore=shutil.ignore_patterns("__pycache__", "conftest.py"))
    (package / "__init__.py").touch()
    return sorted(package.glob("test_lesson*.py"))


def _outcomes(
    name: str, report: Path, exercises: Sequence[Exercise], hidden_exercises: Sequence[Exercise], reason: str
) -> list[CheckOutcome]:
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
    # A check that never reported lost its points, and says why.
    for hidden, group in ((False, exercises), (True, hidden_exercises)):
        for exercise in group:
            lesson = find_lesson(str(exercise.lesson)).package
            for check in exercise.checks:
                if (exercise.id, check.name, hidden) not in seen:
                    outcomes.append(
                        CheckOutcome(
                            name, lesson, exercise.id, check.name, check.requirement, check.points, "error", reason,
                            hidden=hidden, title=check_title(check.name) if hidden else "",
                        )  # fmt: skip
                    )
    return outcomes


def scratch_root() -> str | None:
    """Memory-backed scratch space when the machine has it: labs' SQLite files sync on every commit."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


class GradingError(Exception):
    """The grader itself failed (not a learner's code): ``course grade`` exits non-zero."""


@dataclass
class Job:
    """One lesson of one submission: the unit a worker claims, so lessons run side by side."""

    submission: Submission
    lesson: str
    exercises: tuple[Exercise, ...]
    hidden_exercises: tuple[Exercise, ...]
    path: Path
    report: Path
    done: Path

    def reason(self, default: str) -> str:
        try:
            return json.loads(self.done.read_text(encoding="utf-8"))["reason"] or default
        except (OSError, ValueError, KeyError):
            return default


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    claims: Path
    log: Path


class Grader:
    """One grading run: a zygote for sandboxes, a queue of jobs, trusted pytest workers."""

    def __init__(self, options: GradeOptions) -> None:
        self.options = options
        self.base = Path(tempfile.mkdtemp(prefix="course-grade-", dir=scratch_root()))
        self.base.chmod(0o711)  # sandboxes pass through to their own directories only
        self.scratch = self.base / "scratch"  # the trusted workers' databases, which sandboxes may be granted
        self.scratch.mkdir(mode=0o711)
        self.trusted = self.base / "trusted"
        self.trusted.mkdir(mode=0o700)
        self.queue = self.trusted / "queue"
        self.queue.mkdir()
        self.zygote = Zygote(self.base / "zygote", options.limits)
        self.ready = self.trusted / "zygote-ready"
        self.hidden: list[Path] = []
        self.workers = 0

    def __enter__(self) -> Grader:
        self.hidden = _hidden_modules(self.options.hidden, self.trusted)
        self.zygote.launch()
        return self

    def __exit__(self, *exc: object) -> None:
        self.zygote.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def prepare(self, index: int, path: Path) -> Submission:
        return materialise(path, self.base / "submissions" / f"{index:04d}")

    def enqueue(self, index: int, submission: Submission) -> list[Job]:
        tree = self.base / "trees" / submission.name
        tree.mkdir(parents=True)
        tree.chmod(0o755)
        link_tree(tree, submission.labs)
        reports = self.trusted / "reports" / submission.name
        reports.mkdir(parents=True)
        jobs = []
        selected = _selected(self.options)
        for lesson in sorted({find_lesson(str(e.lesson)) for e in selected}, key=lambda lesson: lesson.number):
            exercises = tuple(e for e in selected if e.lesson == lesson.number)
            hidden = tuple(
                e for path in self.hidden if path.name == Path(lesson.check_module).name
                for e in exercises_of(path, lesson.number) if e.id in {x.id for x in exercises}
            )  # fmt: skip
            path = self.queue / f"{index:04d}-{lesson.number:02d}.json"
            job = Job(submission, lesson.package, exercises, hidden, path, reports / f"{lesson.package}.json",
                      reports / f"{lesson.package}.done")  # fmt: skip
            payload = {
                "name": submission.name, "lesson": lesson.package, "tree": str(tree), "report": str(job.report),
                "done": str(job.done), "started": str(reports / "started"),
            }  # fmt: skip
            path.write_text(json.dumps(payload), encoding="utf-8")
            jobs.append(job)
        return jobs

    def start_worker(self) -> Worker:
        """A trusted pytest process that grades queued jobs until the queue is empty."""
        self.workers += 1
        claims = self.trusted / "claims" / str(self.workers)
        log = self.trusted / f"worker-{self.workers}.log"
        exercises = _selected(self.options)
        modules = sorted({str(checkout_root() / find_lesson(str(e.lesson)).check_module) for e in exercises})
        # Hidden checks of the lessons being graded: same module names as the public ones.
        hidden = [str(path) for path in self.hidden if path.name in {Path(module).name for module in modules}]
        timeout = self.options.check_timeout
        command = [
            sys.executable, "-P", "-m", "pytest", "-q", "--no-header", "--noconftest",
            "-p", "anyio.pytest_plugin", "-p", "pytest_timeout", "-p", "course.grading.batch",
            "-o", "console_output_style=classic",
            f"--course-check-timeout={timeout:g}", f"--timeout={timeout + 10:g}", "--timeout-method=thread",
            f"--grade-queue={self.queue}", f"--grade-claims={claims}",
            f"--grade-submission-timeout={self.options.submission_timeout:g}", *modules, *hidden,
        ]  # fmt: skip
        command += [f"--course-exercise={exercise.id}" for exercise in exercises] if self.options.exercises else []
        env = {**os.environ, SOCKET_ENV: str(self.zygote.path), READY_ENV: str(self.ready)}
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        env.update({"COURSE_MODE": "embedded", START_TIMEOUT_ENV: f"{timeout:g}", "TMPDIR": str(self.scratch)})
        with open(log, "wb") as output:
            process = subprocess.Popen(command, cwd=checkout_root(), env=env, stdout=output, stderr=subprocess.STDOUT)
        return Worker(process, claims, log)

    def run(self, jobs: Sequence[Job], progress: Callable[[str], None]) -> None:
        """Grade every queued job; a worker that dies costs only the job it was grading."""
        pending = {job.done: job for job in jobs}
        left = Counter(job.submission.name for job in jobs)
        started = time.perf_counter()
        workers = [self.start_worker() for _ in range(min(max(1, self.options.jobs), len(jobs)))]
        try:
            self.zygote.wait_ready()  # the workers start pytest meanwhile, then wait for this
            self.ready.touch()
            while pending:
                time.sleep(POLL)
                for done in [done for done in pending if done.exists()]:
                    name = pending.pop(done).submission.name
                    left[name] -= 1
                    if not left[name]:
                        progress(f"{name} (after {time.perf_counter() - started:.1f} s)")
                for worker in [worker for worker in workers if worker.process.poll() is not None]:
                    workers.remove(worker)
                    self._after_exit(worker, pending)
                    if pending and any(self.queue.glob("*.json")) and len(workers) < max(1, self.options.jobs):
                        workers.append(self.start_worker())
                if pending and not workers:
                    raise GradingError("the grading workers stopped with submissions left to grade")
        finally:
            for worker in workers:  # each leaves once the queue is empty; none outlives the run
                try:
                    worker.process.wait(WORKER_EXIT)
                except subprocess.TimeoutExpired:
                    worker.process.kill()
                    worker.process.wait()

    def _after_exit(self, worker: Worker, pending: dict[Path, Job]) -> None:
        # Claimed and not done; a job it finished just before it died is already done.
        claimed = [job for job in pending.values() if (worker.claims / job.path.name).exists()]
        abandoned = [job for job in claimed if not job.done.exists()]
        for job in abandoned:  # it died while grading this one: a check hung or crashed it
            reason = "the grader's check process stopped while grading this submission (a check hung past its timeout?)"
            job.done.write_text(json.dumps({"reason": reason}), encoding="utf-8")
        if worker.process.returncode != 0 and not claimed and any(self.queue.glob("*.json")):
            tail = worker.log.read_text(errors="replace")[-3000:]
            raise GradingError(f"a grading worker failed before grading anything (exit {worker.process.returncode}):\n{tail}")


def grade_all(
    paths: Sequence[Path],
    options: GradeOptions,
    progress: Callable[[str], None] = lambda name: None,
) -> list[CheckOutcome]:
    """Grade every submission; a broken one costs its own points only."""
    with Grader(options) as grader:
        submissions = [grader.prepare(index, path) for index, path in enumerate(paths)]
        names = [submission.name for submission in submissions]
        duplicates = {name for name in names if names.count(name) > 1}
        if duplicates:
            raise ValueError(f"two submissions share a name: {', '.join(sorted(duplicates))}")
        jobs = [job for index, submission in enumerate(submissions) for job in grader.enqueue(index, submission)]
        if jobs:
            grader.run(jobs, progress)
        outcomes: list[CheckOutcome] = []
        for job in jobs:
            reason = job.reason("the check did not report")
            outcomes.extend(_outcomes(job.submission.name, job.report, job.exercises, job.hidden_exercises, reason))
    return outcomes
