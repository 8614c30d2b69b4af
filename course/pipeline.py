"""``course test``: everything CI runs, declared once below (``STAGES``), with a summary table.

Each stage runs in a mode and a time zone of its own, so that checks and notebooks are
proven both in UTC and in a zone far from it, and in both modes:

1. ``labs/`` is in step with ``solutions/``.
2. Lint and types: ruff (format and lint) and mypy (strict on ``course/``).
3. Checks and machinery tests against the solutions (the suite also proves that every
   check fails on the starter); embedded mode, UTC.
4. Notebooks through nbval: strict against the solutions, error-free on the starter, both at once.
5. Check strength: every planted bug loses points, every correct alternative scores full,
   and ``course check`` and ``course grade`` agree, in a far time zone. Prints the kill rate.
6. Steps 3 and 4 again in services mode, in the far time zone, when PostgreSQL and Redis
   answer (required when ``COURSE_SERVICES=required``). Without them, the notebooks run
   once more in embedded mode in the far time zone instead.
7. Coverage of ``course/`` and ``solutions/``, as the embedded suite ran them: the services
   suite adds under half a percent of lines, and tracing would cost it about two fifths more CPU.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from rich.console import Console
from rich.table import Table

from .config import FAR_TIME_ZONE, MODE_ENV, ROOT_ENV, SERVICES_ENV, Mode, get_settings
from .harness import environment
from .layout import checkout_root
from .resources import services_status
from .sync import sync
from .tree import implementation_tree
from .verify import verify

COVERAGE_TARGET = 90
UTC = "UTC"
console = Console(highlight=False)
Action = Callable[[Mapping[str, str]], tuple[bool, str]]  # the stage's environment → passed?, detail


@dataclass
class Step:
    name: str
    outcome: str  # passed, failed, skipped
    seconds: float
    detail: str = ""


def _sync(env: Mapping[str, str]) -> tuple[bool, str]:
    report = sync(check=True)
    if report.in_step:
        return True, "labs/ is in step with solutions/"
    return False, "labs/ differs from solutions/: " + ", ".join(report.changed + report.removed) + " (run course sync)"


def _lint_and_types(env: Mapping[str, str]) -> tuple[bool, str]:
    checkout = str(checkout_root())
    commands = {
        "ruff format": [sys.executable, "-m", "ruff", "format", "--check", "--quiet", checkout],
        "ruff check": [sys.executable, "-m", "ruff", "check", "--quiet", checkout],
        "mypy": [sys.executable, "-m", "mypy", "--no-error-summary", "course"],
    }
    failed = [name for name, command in commands.items() if subprocess.call(command, cwd=checkout) != 0]
    return (
        not failed,
        f"failed: {', '.join(failed)}" if failed else "ruff format, ruff check and mypy --strict are clean",
    )


def _suite(env: Mapping[str, str], *, measured: bool = True) -> tuple[bool, str]:
    checkout = checkout_root()
    command = [sys.executable, "-m"]
    if measured:
        # coverage run (not pytest-cov) so that the early-loaded pytest plugin and every
        # subprocess (xdist workers, check runs, workers) are measured too. Data lives in
        # the checkout, since the tree is temporary; files are recorded by their real
        # paths, so labs/ in the tree counts as solutions/.
        command += ["coverage", "run", f"--rcfile={checkout / 'pyproject.toml'}"]
        command += [f"--source={checkout / 'course'},{checkout / 'solutions'}", "-m"]
    command += ["pytest", "tests", "-q", "--no-header", "-n", "2", "--dist", "loadgroup", "--durations=15"]
    if env[MODE_ENV] == Mode.SERVICES:
        command += ["-m", "not embedded_only"]
    with implementation_tree("solutions") as root:
        child = {**os.environ, **env, ROOT_ENV: str(root), "COVERAGE_FILE": str(checkout / ".coverage")}
        code = subprocess.call(command, cwd=root, env=child)
    return code == 0, f"pytest exit code {code}"


def _notebooks(env: Mapping[str, str]) -> tuple[bool, str]:
    # Both at once: kernels spend much of a notebook waiting (on workers, sleeps, timeouts).
    with ThreadPoolExecutor(max_workers=2) as pool:
        solved_run = pool.submit(verify, "solutions", extra_env=dict(env))
        starter_run = pool.submit(verify, "labs", strict=False, extra_env=dict(env))
        solved, starter = solved_run.result(), starter_run.result()
    for label, result in (("solutions", solved), ("starter", starter)):
        console.print(f"nbval on the {label}:")
        console.print(result.output, markup=False, highlight=False, end="")
        for timing in result.timings:
            console.print(f"  {label:9} {timing.notebook:38} wall {timing.wall:5.2f} s  floor {timing.floor:5.2f} s")
    ok = solved.returncode == 0 and starter.returncode == 0
    return ok, f"solutions exit {solved.returncode}, starter exit {starter.returncode}"


def _strength(env: Mapping[str, str]) -> tuple[bool, str]:
    from .strength import measure, problems, render, summary

    with environment(env):  # the stage's mode; measure sets the zone itself
        results = measure(tz=env["TZ"], progress=lambda line: console.print(f"  {line}"))
    render(results, console)
    found = [problem for lesson in results for problem in problems(lesson)]
    for problem in found:
        console.print(f"[red]✗[/] {problem}", highlight=False)
    return not found, summary(results)


def _coverage(env: Mapping[str, str]) -> tuple[bool, str]:
    subprocess.call([sys.executable, "-m", "coverage", "combine", "--quiet"], cwd=checkout_root())
    code = subprocess.call(
        [sys.executable, "-m", "coverage", "report", f"--fail-under={COVERAGE_TARGET}"], cwd=checkout_root()
    )
    return code == 0, f"target {COVERAGE_TARGET} %"


@dataclass(frozen=True)
class Stage:
    name: str
    action: Action
    mode: Mode = Mode.EMBEDDED
    tz: str = UTC
    services: bool = False  # runs only when PostgreSQL and Redis answer
    without_services: bool = False  # runs only when they do not, in place of the services stages

    @property
    def title(self) -> str:
        return f"{self.name} ({self.mode}, {self.tz})"


STAGES: tuple[Stage, ...] = (
    Stage("sync check", _sync),
    Stage("lint and types", _lint_and_types),
    Stage("checks and machinery", _suite),
    Stage("notebooks", _notebooks),
    Stage("check strength", _strength, tz=FAR_TIME_ZONE),
    Stage("checks and machinery", partial(_suite, measured=False), Mode.SERVICES, FAR_TIME_ZONE, services=True),
    Stage("notebooks", _notebooks, Mode.SERVICES, FAR_TIME_ZONE, services=True),
    Stage("notebooks", _notebooks, Mode.EMBEDDED, FAR_TIME_ZONE, without_services=True),
    Stage("coverage", _coverage),
)


def _run(stage: Stage) -> Step:
    console.rule(f"[bold]{stage.title}")
    started = time.perf_counter()
    ok, detail = stage.action({MODE_ENV: stage.mode.value, "TZ": stage.tz})
    step = Step(stage.title, "passed" if ok else "failed", time.perf_counter() - started, detail)
    console.print(f"{'[green]passed' if ok else '[red]FAILED'}[/] {stage.title} ({step.seconds:.1f} s) {detail}")
    return step


def run_pipeline() -> int:
    root = checkout_root()
    for stale in root.glob(".coverage*"):
        stale.unlink()
    policy = get_settings().services
    reachable, why = services_status() if policy != "skip" else (False, f"{SERVICES_ENV}=skip")
    steps: list[Step] = []
    if not reachable:
        outcome = "failed" if policy == "required" else "skipped"
        steps.append(Step("services mode", outcome, 0.0, why))
        console.print(f"[yellow]services mode {outcome}:[/] {why}")
    for stage in STAGES:
        if (stage.services and not reachable) or (stage.without_services and reachable):
            continue
        steps.append(_run(stage))
    table = Table(title="course test")
    for column in ("step", "result", "seconds", "detail"):
        table.add_column(column)
    colours = {"passed": "green", "failed": "red", "skipped": "yellow"}
    for step in steps:
        table.add_row(step.name, f"[{colours[step.outcome]}]{step.outcome}[/]", f"{step.seconds:.1f}", step.detail)
    console.print(table)
    counts = {outcome: sum(step.outcome == outcome for step in steps) for outcome in colours}
    console.print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts["failed"] else 0
