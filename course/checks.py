"""Run graded checks in a fresh process and present the results.

The checks run in a subprocess so that they always see the learner's latest code,
and so that a broken or hanging lab costs a readable failure, never the caller.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .advice import merge
from .config import ROOT_ENV, get_settings
from .hidden import HiddenChecksError, HiddenCount
from .hidden import load as load_hidden
from .layout import EXERCISE_ID, Exercise, find_exercise, find_lesson, lessons
from .tree import implementation_tree

if TYPE_CHECKING:
    from .check_forks import CheckForks

OUTPUT_TAIL = 1500
PROGRESS_POLL = 0.1
LEARNER_WARNINGS = "always"


@dataclass(frozen=True)
class CheckResult:
    name: str
    exercise: str
    points: int
    requirement: str
    outcome: str
    message: str = ""
    duration: float = 0.0
    advice: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"


@dataclass
class CheckRun:
    exercises: tuple[Exercise, ...]
    results: list[CheckResult] = field(default_factory=list)
    returncode: int = 0
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(result.passed for result in self.results)

    @property
    def score(self) -> tuple[int, int]:
        earned = sum(result.points for result in self.results if result.passed)
        return earned, sum(exercise.points for exercise in self.exercises)

    def exercise_passed(self, exercise_id: str) -> bool:
        mine = [result for result in self.results if result.exercise == exercise_id]
        return bool(mine) and all(result.passed for result in mine)


def select(selectors: Iterable[str]) -> tuple[Exercise, ...]:
    """Exercises named by ids (``1.2``) or lessons (``1``, ``lesson01_endpoints``); all if none."""
    chosen: dict[str, Exercise] = {}
    selectors = list(selectors)
    if not selectors:
        selectors = [lesson.package for lesson in lessons()]
    for selector in selectors:
        if EXERCISE_ID.match(selector):
            found: Iterable[Exercise] = [find_exercise(selector)]
        else:
            found = find_lesson(selector).exercises
        chosen.update((exercise.id, exercise) for exercise in found)
    return tuple(sorted(chosen.values(), key=lambda exercise: exercise.sort_key))


def _pytest_arguments(exercises: Sequence[Exercise], report: Path, timeout: float) -> list[str]:
    chosen = {exercise.lesson for exercise in exercises}
    modules = sorted(lesson.check_module for lesson in chosen)
    whole = {exercise.id for exercise in exercises} == {
        exercise.id for lesson in chosen for exercise in lesson.exercises
    }
    command = ["-q", "--no-header", "-p", "anyio.pytest_plugin", "-p", "pytest_timeout"]
    # Learner code's warnings are advice, not errors (the suite's filterwarnings = error is for the machinery).
    command += ["-W", LEARNER_WARNINGS]
    # The check's own timeout cancels cleanly; pytest-timeout is the backstop for a blocked loop.
    command += [f"--course-check-timeout={timeout:g}", f"--timeout={timeout + 5:g}", "--timeout-method=thread"]
    command += [f"--course-report={report}", *modules]
    if not whole:
        command += [f"--course-exercise={exercise.id}" for exercise in exercises]
    return command


class Running(Protocol):
    """pytest running the checks: a fresh subprocess, or a child of a check fork server."""

    def done(self) -> bool: ...

    def result(self) -> tuple[int, str]: ...  # exit code, output

    def kill(self) -> None: ...


class _Subprocess:
    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self._child = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._pool = ThreadPoolExecutor(max_workers=1)
        # Read all it says, so that it never blocks on a full pipe.
        self._reader = self._pool.submit(self._child.communicate)
        self._pool.shutdown(wait=False)

    def done(self) -> bool:
        return self._reader.done()

    def result(self) -> tuple[int, str]:
        return self._child.returncode, self._reader.result()[0]

    def kill(self) -> None:
        self._child.kill()
        self._reader.result()


def run_checks(
    selectors: Iterable[str] = (),
    *,
    impl: str | Path = "labs",
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    forks: CheckForks | None = None,
) -> CheckRun:
    """Run the checks of the selected exercises against ``impl`` in a subprocess.

    ``progress(done, expected)`` hears how many checks have finished, as the report grows.
    With ``forks``, the subprocess is forked from that warm server instead of started afresh.
    """
    exercises = select(selectors)
    per_check = timeout or get_settings().check_timeout
    run = CheckRun(exercises)
    if not exercises:
        return run
    expected = sum(len(exercise.checks) for exercise in exercises)
    started = time.perf_counter()
    with implementation_tree(impl) as root, tempfile.TemporaryDirectory(prefix="course-check-") as scratch:
        report = Path(scratch) / "report.json"
        child_env = {**os.environ, **(env or {}), ROOT_ENV: str(root), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        limit = per_check * (expected + 1) + 30
        arguments = _pytest_arguments(exercises, report, per_check)
        if forks is None:
            pytest_run: Running = _Subprocess([sys.executable, "-m", "pytest", *arguments], root, child_env)
        else:
            pytest_run = forks.start(arguments, root, child_env, Path(scratch) / "output.txt")
        while not pytest_run.done() and time.perf_counter() - started < limit:
            if progress is not None:
                progress(len(_read_report(report)), expected)
            time.sleep(PROGRESS_POLL)
        if pytest_run.done():
            run.returncode, output = pytest_run.result()
        else:
            pytest_run.kill()
            run.returncode, output = -1, f"the checks did not finish within {limit:.0f} s"
        run.results = _read_report(report)
    run.duration = time.perf_counter() - started
    _account_for_missing(run, output)
    return run


def _read_report(path: Path) -> list[CheckResult]:
    try:
        payload: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [
        CheckResult(
            row["name"],
            row["exercise"],
            row["points"],
            row["requirement"],
            row["outcome"],
            row.get("message", ""),
            row.get("duration", 0.0),
            tuple(row.get("advice", ())),
        )
        for row in payload["checks"]
    ]


def _account_for_missing(run: CheckRun, output: str) -> None:
    """Every expected check gets a verdict: one that never reported has failed, and says why."""
    reported = {(result.exercise, result.name) for result in run.results}
    tail = output.strip()[-OUTPUT_TAIL:] or f"pytest exited with code {run.returncode}"
    for exercise in run.exercises:
        for check in exercise.checks:
            if (exercise.id, check.name) not in reported:
                run.results.append(CheckResult(check.name, exercise.id, check.points, check.requirement, "error", tail))
    order = {
        (exercise.id, check.name): index for index, exercise in enumerate(run.exercises) for check in exercise.checks
    }
    run.results.sort(key=lambda result: order.get((result.exercise, result.name), len(order)))


def render(run: CheckRun, console: Any = None, *, hidden_file: Path | None = None) -> None:
    """A table of checks, then each failure's requirement and message.

    When ``hidden-checks.json`` (``course.hidden``) says the grader runs hidden checks on the selected
    exercises, it says so, and the points line counts only the checks that ran here.
    """
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=None, show_lines=False, expand=False)
    for column in ("exercise", "check", "points", "result"):
        table.add_column(column, justify="right" if column == "points" else "left")
    for result in run.results:
        verdict = "[green]pass[/]" if result.passed else f"[red]{result.outcome.replace('failed', 'fail')}[/]"
        table.add_row(result.exercise, result.name, str(result.points), verdict)
    console.print(table)
    for result in run.results:
        if not result.passed:
            console.print(f"[bold red]✗ {result.exercise} {result.name}[/]")
            console.print(f"  [bold]Requirement:[/] {result.requirement}", highlight=False)
            console.print(textwrap.indent(result.message, "    "), markup=False, highlight=False)
    if said := merge(*(result.advice for result in run.results)):
        console.print("[bold]Advice[/] (it does not change your score):")
        for line in said:
            console.print(f"  • {line}", markup=False, highlight=False)
    hidden = _hidden_checks(run, console, hidden_file)
    earned, total = run.score
    style = "green" if run.passed else "red"
    if not hidden:
        console.print(f"[{style}]{earned}/{total} points[/] in {run.duration:.1f} s")
        return
    more = sum(count.points for count in hidden.values())
    console.print(
        f"[{style}]{earned}/{total} points from the checks you can run here[/] "
        f"(the grader also runs hidden checks worth {more} more) in {run.duration:.1f} s"
    )


def _hidden_checks(run: CheckRun, console: Any, path: Path | None) -> dict[str, HiddenCount]:
    """Say which selected exercises also have hidden checks, and return them; a bad file is a warning."""
    from rich.markup import escape

    try:
        known = load_hidden(path)
    except HiddenChecksError as exc:
        console.print(f"[yellow]Warning:[/] {escape(str(exc))}. Hidden checks it would have mentioned are not shown.")
        return {}
    hidden = {exercise.id: known[exercise.id] for exercise in run.exercises if exercise.id in known}
    words = {
        exercise: f"{_many(count.checks, 'hidden check')} ({_many(count.points, 'point')})"
        for exercise, count in hidden.items()
    }
    graded_apart = "that only the grader runs; your local result is not your grade."
    if len(hidden) == 1:
        [(exercise, said)] = words.items()
        subject = "This exercise" if len(run.exercises) == 1 else f"Exercise {exercise}"
        console.print(f"[yellow]{subject} also has {said} {graded_apart}[/]")
    elif hidden:
        console.print(f"[yellow]These exercises also have hidden checks {graded_apart}[/]")
        for exercise, said in words.items():
            console.print(f"  • {exercise}: {said}")
    return hidden


def _many(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
