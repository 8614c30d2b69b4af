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

Every stage is bound by the machine's CPU except where it waits (on workers, sleeps, kernels),
so a mode's suite and its notebooks run side by side (``beside_next``): alone, neither keeps
both cores busy. The first of a pair prints as it goes; the other's report follows it.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
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
_local = threading.local()  # a stage run beside another prints into a console of its own
Action = Callable[[Mapping[str, str]], tuple[bool, str]]  # the stage's environment → passed?, detail


def out() -> Console:
    """Where the running stage prints: the terminal, or a buffer shown once the stage beside it has finished."""
    return getattr(_local, "console", console)


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
    # worksteal: a worker that runs out takes tests queued for the other. By module (loadgroup), the
    # module of a long test kept the rest of it queued behind it, and one worker ran alone for a minute.
    command += ["pytest", "tests", "-q", "--no-header", "-n", "2", "--dist", "worksteal", "--durations=15"]
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
        out().print(f"nbval on the {label}:")
        out().print(result.output, markup=False, highlight=False, end="")
        for timing in result.timings:
            out().print(f"  {label:9} {timing.notebook:38} wall {timing.wall:5.2f} s  floor {timing.floor:5.2f} s")
    ok = solved.returncode == 0 and starter.returncode == 0
    return ok, f"solutions exit {solved.returncode}, starter exit {starter.returncode}"


def _strength(env: Mapping[str, str]) -> tuple[bool, str]:
    from .strength import measure, problems, render, summary

    with environment(env):  # the stage's mode; measure sets the zone itself
        printer = out()  # measure reports progress from threads of its own
        results = measure(tz=env["TZ"], progress=lambda line: printer.print(f"  {line}"))
    render(results, printer)
    found = [problem for lesson in results for problem in problems(lesson)]
    for problem in found:
        printer.print(f"[red]✗[/] {problem}", highlight=False)
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
    beside_next: bool = False  # runs at the same time as the next stage that runs

    @property
    def title(self) -> str:
        return f"{self.name} ({self.mode}, {self.tz})"


STAGES: tuple[Stage, ...] = (
    Stage("sync check", _sync),
    Stage("lint and types", _lint_and_types),
    Stage("checks and machinery", _suite, beside_next=True),
    Stage("notebooks", _notebooks),
    Stage("check strength", _strength, tz=FAR_TIME_ZONE),
    Stage(
        "checks and machinery",
        partial(_suite, measured=False),
        Mode.SERVICES,
        FAR_TIME_ZONE,
        services=True,
        beside_next=True,
    ),
    Stage("notebooks", _notebooks, Mode.SERVICES, FAR_TIME_ZONE, services=True),
    Stage("notebooks", _notebooks, Mode.EMBEDDED, FAR_TIME_ZONE, without_services=True),
    Stage("coverage", _coverage),
)


def _run(stage: Stage) -> Step:
    started = time.perf_counter()
    ok, detail = stage.action({MODE_ENV: stage.mode.value, "TZ": stage.tz})
    step = Step(stage.title, "passed" if ok else "failed", time.perf_counter() - started, detail)
    out().print(f"{'[green]passed' if ok else '[red]FAILED'}[/] {stage.title} ({step.seconds:.1f} s) {detail}")
    return step


def _run_aside(stage: Stage) -> tuple[Step, str]:
    """Run ``stage`` printing into a buffer of its own: its step, and what it printed."""
    buffer = io.StringIO()
    _local.console = Console(file=buffer, highlight=False, force_terminal=console.is_terminal, width=console.width)
    try:
        return _run(stage), buffer.getvalue()
    finally:
        del _local.console


def _run_together(group: list[Stage]) -> list[Step]:
    """Run the stages of ``group`` at once; the first prints as it goes, each other's report follows."""
    console.rule("[bold]" + " ∥ ".join(stage.title for stage in group))
    first, others = group[0], group[1:]
    if not others:
        return [_run(first)]
    with ThreadPoolExecutor(max_workers=len(others)) as pool:
        asides = [pool.submit(_run_aside, stage) for stage in others]
        steps = [_run(first)]
        for stage, aside in zip(others, asides, strict=True):
            step, printed = aside.result()
            console.rule(f"[bold]{stage.title}")
            sys.stdout.write(printed)
            sys.stdout.flush()
            steps.append(step)
    return steps


def _groups(stages: list[Stage]) -> list[list[Stage]]:
    """Consecutive stages joined while each asks to run beside the next."""
    groups: list[list[Stage]] = []
    joining = False
    for stage in stages:
        if joining:
            groups[-1].append(stage)
        else:
            groups.append([stage])
        joining = stage.beside_next
    return groups


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
    runnable = [
        stage for stage in STAGES if not ((stage.services and not reachable) or (stage.without_services and reachable))
    ]
    for group in _groups(runnable):
        steps += _run_together(group)
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
