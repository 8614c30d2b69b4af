"""``course grade``: grade a class in one batch, every submission in its own jails.

The batch is a pipeline of stages, in this order (``grade_all``):

1. **materialise**: copy each submission in, bounded and following no link. One that
   is refused becomes errors of its own, with the reason as feedback.
2. **enqueue**: a job per lesson of each submission, in a queue directory.
3. **run workers**: ``-j`` trusted check workers (pytest, ``check_worker``) take jobs
   until none is left; each check asks the sandbox server for a jailed app.
4. **collect**: outcomes come from the workers' own reports only; a check that never
   reported lost its points and says why.

``course grade`` then writes the reports (``reports.write_reports``). Each lifecycle
has one owner: the batch owns its directories and the sandbox server; a worker owns
the jails of the job it runs (``SandboxedLabs.begin``/``end``). The batch fails, and
``course grade`` exits 2, only for the grader's own failures; a hostile submission
costs only itself.
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

from ..checks import LEARNER_WARNINGS, select
from ..config import (
    CHECK_TIMEOUT,
    LAB_START_TIMEOUT,
    MODE_ENV,
    ROOT_ENV,
    SUBMISSION_TIMEOUT,
    Mode,
    SandboxLimits,
    SubmissionLimits,
    get_settings,
)
from ..hidden import hidden_modules
from ..layout import Exercise, Lesson, checkout_root, exercises_of, lesson_of_module
from ..resources import scratch_root
from ..safe_fs import remove_tree
from ..tree import link_tree
from .cache import CacheRefused, GradeCache, lesson_context
from .check_worker import HIDDEN_PACKAGE
from .reports import CheckOutcome, check_title
from .sandbox_client import HostFailure, ZygoteProcess
from .submissions import Refused, Submission, compile_lessons, materialise, submission_name

POLL = 0.05
RUN_PREFIX = "course-grade-"  # each run's scratch directory: /dev/shm/course-grade-XXXX
WORKER_EXIT = 30.0


@dataclass
class GradeOptions:
    lessons: list[str] = field(default_factory=list)
    exercises: list[str] = field(default_factory=list)
    hidden: Path | None = None
    jobs: int = 2
    check_timeout: float = CHECK_TIMEOUT
    submission_timeout: float = SUBMISSION_TIMEOUT
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    submission_limits: SubmissionLimits = field(default_factory=SubmissionLimits)
    cache: Path | None = None  # grade only the jobs whose inputs changed since a run with this cache
    # Per submission, by name: only these of the selected exercises. Check strength grades each
    # planted bug on its own exercise, in one batch with the rest of its lesson's variants.
    only_exercises: dict[str, list[str]] = field(default_factory=dict)

    def exercises_for(self, learner: str, selected: Sequence[Exercise]) -> tuple[Exercise, ...]:
        """What ``learner``'s submission is graded on: the selected exercises, or those it is narrowed to."""
        only = self.only_exercises.get(learner)
        return tuple(exercise for exercise in selected if only is None or exercise.id in only)

    def verdict_options(self) -> dict[str, object]:
        """The options that can change a verdict: part of every cache key."""
        return {
            "check_timeout": self.check_timeout,
            "submission_timeout": self.submission_timeout,
            "limits": self.limits.as_dict(),
        }


@dataclass
class Graded:
    """What a batch produced: every check's outcome, and what the jails could not do on this machine."""

    outcomes: list[CheckOutcome]
    shortfalls: list[str] = field(default_factory=list)
    graded_jobs: int = 0  # lessons of submissions graded in this run
    cached_jobs: int = 0  # lessons of submissions answered from the cache


class GradingError(Exception):
    """The grader itself failed (not a learner's code): ``course grade`` exits non-zero."""


@dataclass(frozen=True)
class Intake:
    """One submission as taken in: ready to grade, or refused with a reason."""

    name: str
    submission: Submission | None
    refused: str = ""


@dataclass(frozen=True)
class JobEnd:
    """Why a worker stopped a job early (empty if it did not), and how long the job took (None if not said)."""

    reason: str = ""
    seconds: float | None = None


def read_job_end(done: Path) -> JobEnd:
    """What a worker wrote in a job's done file, read once; an empty ``JobEnd`` if nothing readable is there."""
    try:
        written = json.loads(done.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return JobEnd()
    if not isinstance(written, dict):
        return JobEnd()
    reason, seconds = written.get("reason"), written.get("seconds")
    return JobEnd(
        reason=reason if isinstance(reason, str) else "",
        seconds=float(seconds) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else None,
    )


@dataclass
class Job:
    """One lesson of one submission: the unit a worker claims, so lessons run side by side."""

    submission: Submission
    lesson: Lesson
    exercises: tuple[Exercise, ...]
    hidden_exercises: tuple[Exercise, ...]
    path: Path
    report: Path
    done: Path
    cache_key: str = ""


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    claims: Path
    log: Path


def _unreported(
    learner: str, exercises: Sequence[Exercise], hidden: bool, seen: set[tuple[str, str, bool]], reason: str
) -> list[CheckOutcome]:
    """Errors for the checks that never reported: they lost their points, and say why."""
    return [
        CheckOutcome(
            learner,
            exercise.lesson.package,
            exercise.id,
            check.name,
            check.requirement,
            check.points,
            "error",
            reason,
            hidden=hidden,
            title=check_title(check.name) if hidden else "",
        )
        for exercise in exercises
        for check in exercise.checks
        if (exercise.id, check.name, hidden) not in seen
    ]


def _outcomes(job: Job, reason: str) -> list[CheckOutcome]:
    try:
        rows = json.loads(job.report.read_text(encoding="utf-8"))["checks"]
    except (OSError, ValueError, KeyError):
        rows = []
    learner = job.submission.name
    outcomes, seen = [], set()
    for row in rows:
        hidden = row["module"].startswith(f"{HIDDEN_PACKAGE}.")
        lesson = lesson_of_module(row["module"])
        seen.add((row["exercise"], row["name"], hidden))
        outcomes.append(
            CheckOutcome(
                learner=learner,
                lesson=lesson.package if lesson else "",
                exercise=row["exercise"],
                check=row["name"],
                requirement=row["requirement"],
                points=row["points"],
                status="timeout" if row["message"].startswith("Timeout") else row["outcome"],
                message=row["message"],
                duration=row["duration"],
                hidden=hidden,
                title=check_title(row["name"]) if hidden else "",
                advice=() if hidden else tuple(row.get("advice", ())),
            )
        )
    outcomes += _unreported(learner, job.exercises, False, seen, reason)
    outcomes += _unreported(learner, job.hidden_exercises, True, seen, reason)
    return outcomes


def take_in(paths: Sequence[Path], dest: Path, limits: SubmissionLimits) -> list[Intake]:
    """Copy every submission into ``dest``; one that cannot be taken in is refused, alone, with its reason."""
    taken: list[Intake] = []
    names: Counter[str] = Counter()
    for index, path in enumerate(paths):
        name = submission_name(path)
        names[name] += 1
        if names[name] > 1:  # two learners' files with one name: keep both, told apart
            name = f"{name}-{names[name]}"
        try:
            submission = materialise(path, dest / f"{index:04d}", limits)
        except Refused as refused:
            taken.append(Intake(name, None, f"The submission was not graded: {refused}"))
            continue
        except Exception as exc:
            taken.append(Intake(name, None, f"The submission could not be read: {type(exc).__name__}"))
            continue
        taken.append(Intake(name, Submission(name, submission.labs)))
    return taken


def refused_outcomes(
    taken: Sequence[Intake], selected: Sequence[Exercise], options: GradeOptions
) -> list[CheckOutcome]:
    """Every check a refused submission was to be graded on: an error whose message is the reason."""
    return [
        outcome
        for intake in taken
        if intake.submission is None
        for outcome in _unreported(
            intake.name, options.exercises_for(intake.name, selected), False, set(), intake.refused
        )
    ]


class Batch:
    """One grading run: its directories, its sandbox server, its queue and its check workers."""

    def __init__(self, options: GradeOptions) -> None:
        self.options = options
        try:
            self.cache = GradeCache(options.cache) if options.cache is not None else None
        except (CacheRefused, OSError) as refused:
            raise GradingError(f"cannot use the cache {options.cache}: {refused}") from None
        self.selected = select(options.exercises or options.lessons)
        # Where every run keeps its files (resources.scratch_root): memory when there is room.
        self.base = Path(tempfile.mkdtemp(prefix=RUN_PREFIX, dir=scratch_root(get_settings())))
        self.base.chmod(0o711)  # jails pass through to their own directories only
        self.trusted = self.base / "trusted"  # nothing here is ever seen from a jail
        self.trusted.mkdir(mode=0o700)
        (self.trusted / "scratch").mkdir(mode=0o700)
        self.queue = self.trusted / "queue"
        self.queue.mkdir()
        self.zygote = ZygoteProcess(self.base / "zygote", options.limits)
        self.ready = self.trusted / "zygote-ready"
        self.hidden: list[Path] = []
        self.workers = 0
        self.from_cache: list[CheckOutcome] = []

    def __enter__(self) -> Batch:
        self.hidden = self._hidden_modules()
        if self.cache is None:
            self.zygote.launch()  # it warms up while the submissions are taken in
        return self

    def __exit__(self, *exc: object) -> None:
        self.zygote.stop()
        remove_tree(self.base)

    def _hidden_modules(self) -> list[Path]:
        """A root-only copy of the instructor's hidden checks, as a package pytest can import."""
        if self.options.hidden is None:
            return []
        package = self.trusted / HIDDEN_PACKAGE
        shutil.copytree(self.options.hidden, package, ignore=shutil.ignore_patterns("__pycache__", "conftest.py"))
        (package / "__init__.py").touch()
        return hidden_modules(package)

    # --- 1. materialise ------------------------------------------------------------------------

    def materialise(self, paths: Sequence[Path]) -> list[Intake]:
        return take_in(paths, self.base / "submissions", self.options.submission_limits)

    # --- 2. enqueue ----------------------------------------------------------------------------

    def _cache_keys(self, taken: Sequence[Intake], lessons: Sequence[Lesson]) -> dict[tuple[int, Lesson], str]:
        """Each job's key; the jobs the cache answers go straight to ``from_cache``, and get no key."""
        if self.cache is None:
            return {}
        contexts: dict[tuple[Exercise, ...], str] = {}
        keys = {}
        for index, intake in enumerate(taken):
            if intake.submission is None:
                continue
            for lesson in lessons:
                exercises = self._exercises(intake.name, lesson)
                if not exercises:
                    continue
                if exercises not in contexts:
                    contexts[exercises] = lesson_context(lesson, exercises, self.hidden, self.options.verdict_options())
                key = self.cache.key(contexts[exercises], intake.submission.labs, lesson)
                stored = self.cache.get(key, intake.name)
                if stored is None:
                    keys[index, lesson] = key
                else:
                    self.from_cache += stored
        return keys

    def _exercises(self, learner: str, lesson: Lesson) -> tuple[Exercise, ...]:
        return self.options.exercises_for(learner, [e for e in self.selected if e.lesson == lesson])

    def enqueue(self, taken: Sequence[Intake]) -> list[Job]:
        """Queue a job per lesson of each submission. Workers claim them in name order: submission by
        submission, and within one the lessons that took longest last time first, so that a long lesson
        never starts last while the other worker idles."""
        jobs = []
        chosen = sorted({exercise.lesson for exercise in self.selected}, key=lambda lesson: lesson.number)
        keys = self._cache_keys(taken, chosen)
        durations = self.cache.durations() if self.cache is not None else {}
        rank = {
            lesson: position
            for position, lesson in enumerate(sorted(chosen, key=lambda lesson: -durations.get(lesson.package, 0.0)))
        }
        for index, intake in enumerate(taken):
            submission = intake.submission
            if submission is None:
                continue
            to_grade = {
                lesson: exercises
                for lesson in chosen
                if self.cache is None or (index, lesson) in keys
                if (exercises := self._exercises(intake.name, lesson))
            }
            if not to_grade:
                continue
            tree = self.base / "trees" / f"{index:04d}"
            tree.mkdir(parents=True)
            tree.chmod(0o755)
            link_tree(tree, submission.labs)
            reports = self.trusted / "reports" / f"{index:04d}"
            reports.mkdir(parents=True)
            compile_lessons(submission.labs, [lesson.package for lesson in to_grade])
            for lesson, exercises in to_grade.items():
                wanted = {e.id for e in exercises}
                hidden = tuple(
                    e
                    for path in self.hidden
                    if path.name == Path(lesson.check_module).name
                    for e in exercises_of(path, lesson)
                    if e.id in wanted
                )
                path = self.queue / f"{index:04d}-{rank[lesson]:02d}-{lesson.number:02d}.json"
                job = Job(
                    submission,
                    lesson,
                    exercises,
                    hidden,
                    path,
                    reports / f"{lesson.package}.json",
                    reports / f"{lesson.package}.done",
                    keys.get((index, lesson), ""),
                )
                payload: dict[str, object] = {
                    "owner": f"{index:04d}-{lesson.number:02d}",
                    "lesson": lesson.package,
                    "tree": str(tree),
                    "labs": str(submission.labs),
                    "report": str(job.report),
                    "done": str(job.done),
                    "started": str(reports / "started"),
                }
                if intake.name in self.options.only_exercises:
                    payload["exercises"] = sorted(wanted)
                path.write_text(json.dumps(payload), encoding="utf-8")
                jobs.append(job)
        return jobs

    # --- 3. run workers ------------------------------------------------------------------------

    def _start_worker(self) -> Worker:
        """A trusted pytest process that grades queued jobs until the queue is empty."""
        self.workers += 1
        claims = self.trusted / "claims" / str(self.workers)
        log = self.trusted / f"worker-{self.workers}.log"
        modules = sorted({str(checkout_root() / e.lesson.check_module) for e in self.selected})
        # Hidden checks of the lessons being graded: same module names as the public ones.
        hidden = [str(path) for path in self.hidden if path.name in {Path(module).name for module in modules}]
        timeout = self.options.check_timeout
        command = [
            sys.executable,
            "-P",
            "-m",
            "pytest",
            "-q",
            "--no-header",
            "--noconftest",
            "-p",
            "anyio.pytest_plugin",
            "-p",
            "pytest_timeout",
            "-p",
            "course.grading.check_worker",
            "-o",
            "console_output_style=classic",
            "-W",
            LEARNER_WARNINGS,
            f"--course-check-timeout={timeout:g}",
            f"--timeout={timeout + 10:g}",
            "--timeout-method=thread",
            f"--grade-queue={self.queue}",
            f"--grade-claims={claims}",
            f"--grade-zygote={self.zygote.socket}",
            f"--grade-ready={self.ready}",
            f"--grade-limits={json.dumps(self.options.limits.as_dict())}",
            f"--grade-start-timeout={min(LAB_START_TIMEOUT, timeout):g}",
            f"--grade-submission-timeout={self.options.submission_timeout:g}",
            *modules,
            *hidden,
        ]
        command += [f"--course-exercise={e.id}" for e in self.selected] if self.options.exercises else []
        env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", MODE_ENV: Mode.EMBEDDED.value}
        env.update({"TMPDIR": str(self.trusted / "scratch"), ROOT_ENV: str(checkout_root())})
        with open(log, "wb") as output:
            process = subprocess.Popen(command, cwd=checkout_root(), env=env, stdout=output, stderr=subprocess.STDOUT)
        return Worker(process, claims, log)

    def run_workers(self, jobs: Sequence[Job], progress: Callable[[str], None]) -> None:
        """Grade every queued job; a worker that dies costs only the job it was grading."""
        pending = {job.done: job for job in jobs}
        left = Counter(job.submission.name for job in jobs)
        started = time.perf_counter()
        wanted = min(max(1, self.options.jobs), len(jobs))
        workers = [self._start_worker() for _ in range(wanted)]
        try:
            try:
                self.zygote.wait_ready()  # the workers start pytest meanwhile, then wait for this
            except HostFailure as failure:
                raise GradingError(str(failure)) from None
            self.ready.touch()
            while pending:
                time.sleep(POLL)
                for worker in [worker for worker in workers if worker.process.poll() is not None]:
                    workers.remove(worker)
                    self._after_exit(worker, pending)
                for done in [done for done in pending if done.exists()]:
                    name = pending.pop(done).submission.name
                    left[name] -= 1
                    if not left[name]:
                        progress(f"{name} (after {time.perf_counter() - started:.1f} s)")
                if pending and len(workers) < wanted and any(self.queue.glob("*.json")):
                    workers.append(self._start_worker())
                if pending and not workers:
                    raise GradingError("the check workers stopped with submissions left to grade")
        finally:
            for worker in workers:  # each leaves once the queue is empty; none outlives the run
                try:
                    worker.process.wait(WORKER_EXIT)
                except subprocess.TimeoutExpired:
                    worker.process.kill()
                    worker.process.wait()

    def _after_exit(self, worker: Worker, pending: dict[Path, Job]) -> None:
        """A worker left: mark the job it died in as done with a reason; fail only if it never graded at all."""
        claimed = [job for job in pending.values() if (worker.claims / job.path.name).exists()]
        for job in claimed:
            if not job.done.exists():  # it died while grading this one: a check hung or crashed it
                reason = (
                    "the grader's check process stopped while grading this submission (a check hung past its timeout?)"
                )
                job.done.write_text(json.dumps({"reason": reason}), encoding="utf-8")
        if worker.process.returncode != 0 and not claimed and any(self.queue.glob("*.json")):
            tail = worker.log.read_text(errors="replace")[-3000:]
            raise GradingError(
                f"a check worker failed before grading anything (exit {worker.process.returncode}):\n{tail}"
            )

    # --- 4. collect ----------------------------------------------------------------------------

    def collect(self, taken: Sequence[Intake], jobs: Sequence[Job]) -> list[CheckOutcome]:
        outcomes = refused_outcomes(taken, self.selected, self.options) + self.from_cache
        measured: dict[str, list[float]] = {}
        for job in jobs:
            ending = read_job_end(job.done)
            graded = _outcomes(job, ending.reason or "the check did not report")
            if self.cache is not None and job.cache_key:
                self.cache.put(job.cache_key, graded)
            if ending.seconds is not None:
                measured.setdefault(job.lesson.package, []).append(ending.seconds)
            outcomes += graded
        if self.cache is not None:
            self.cache.record_durations({package: sum(s) / len(s) for package, s in measured.items()})
        return outcomes


def grade_all(
    paths: Sequence[Path],
    options: GradeOptions,
    progress: Callable[[str], None] = lambda name: None,
) -> Graded:
    """Grade every submission: materialise → enqueue → run workers → collect."""
    with Batch(options) as batch:
        taken = batch.materialise(paths)
        jobs = batch.enqueue(taken)
        if jobs:
            if batch.cache is not None:
                batch.zygote.launch()  # only now: a run the cache answers in full needs no sandbox
            batch.run_workers(jobs, progress)
            if not batch.zygote.alive:  # every later check would have failed for the grader's sake
                raise GradingError("the sandbox server stopped during the batch; no grade can be trusted")
        graded = {job.submission.name for job in jobs}
        for intake in taken:
            if intake.submission is None:
                progress(f"{intake.name} (refused)")
            elif intake.name not in graded:
                progress(f"{intake.name} (from the cache)")
        shortfalls = list(batch.zygote.isolation.get("shortfalls", []))
        cached = batch.cache.hits if batch.cache is not None else 0
        return Graded(batch.collect(taken, jobs), shortfalls, graded_jobs=len(jobs), cached_jobs=cached)
