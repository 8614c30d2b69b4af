"""``course test``: everything CI runs, in order, with a summary table.

1. ``labs/`` is in step with ``solutions/``.
2. Checks and machinery tests against the solutions (the suite proves that every
   check also fails on the starter).
3. Notebooks through nbval: strict against the solutions, error-free on the starter.
4. Steps 2 and 3 again in services mode, when PostgreSQL and Redis are reachable
   (required when ``COURSE_SERVICES=required``).
5. Coverage of ``course/`` and ``solutions/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from .layout import ROOT_ENV, checkout_root
from .resources import services_status
from .settings import get_settings
from .sync import sync
from .tree import implementation_tree
from .verify import verify

COVERAGE_TARGET = 90
console = Console(highlight=False)


@dataclass
class Step:
    name: str
    outcome: str  # passed, failed, skipped
    seconds: float
    detail: str = ""


def _run_step(name: str, action: Callable[[], tuple[bool, str]]) -> Step:
    console.rule(f"[bold]{name}")
    started = time.perf_counter()
    ok, detail = action()
    step = Step(name, "passed" if ok else "failed", time.perf_counter() - started, detail)
    console.print(f"{'[green]passed' if ok else '[red]FAILED'}[/] {name} ({step.seconds:.1f} s) {detail}")
    return step


def _sync_step() -> tuple[bool, str]:
    report = sync(check=True)
    if report.in_step:
        return True, "labs/ is in step with solutions/"
    return False, "labs/ differs from solutions/: " + ", ".join(report.changed + report.removed) + " (run course sync)"


def _suite_step(mode: str) -> Callable[[], tuple[bool, str]]:
    def run() -> tuple[bool, str]:
        checkout = checkout_root()
        # coverage run (not pytest-cov) so that the early-loaded pytest plugin and every
        # subprocess (xdist workers, check runs, workers) are measured too. Data lives in
        # the checkout, since the tree is temporary; files are recorded by their real
        # paths, so labs/ in the tree counts as solutions/.
        command = [sys.executable, "-m", "coverage", "run", f"--rcfile={checkout / 'pyproject.toml'}"]
        command += [f"--source={checkout / 'course'},{checkout / 'solutions'}", "-m", "pytest"]
        command += ["tests", "-q", "--no-header", "-n", "2", "--dist", "loadgroup"]
        if mode == "services":
            command += ["-m", "not embedded_only"]
        with implementation_tree("solutions") as root:
            env = {**os.environ, ROOT_ENV: str(root), "COURSE_MODE": mode, "COVERAGE_FILE": str(checkout / ".coverage")}
            code = subprocess.call(command, cwd=root, env=env)
        return code == 0, f"pytest exit code {code}"

    return run


def _notebooks_step(mode: str) -> Callable[[], tuple[bool, str]]:
    def run() -> tuple[bool, str]:
        env = {"COURSE_MODE": mode}
        solved = verify("solutions", extra_env=env, stream=True)
        starter = verify("labs", strict=False, extra_env=env, stream=True)
        for label, result in (("solutions", solved), ("starter", starter)):
            for timing in result.timings:
                console.print(
                    f"  {label:9} {timing.notebook:38} wall {timing.wall:5.2f} s  floor {timing.floor:5.2f} s"
                )
        ok = solved.returncode == 0 and starter.returncode == 0
        return ok, f"solutions exit {solved.returncode}, starter exit {starter.returncode}"

    return run


def _coverage_step() -> tuple[bool, str]:
    subprocess.call([sys.executable, "-m", "coverage", "combine", "--quiet"], cwd=checkout_root())
    code = subprocess.call(
        [sys.executable, "-m", "coverage", "report", f"--fail-under={COVERAGE_TARGET}"], cwd=checkout_root()
    )
    return code == 0, f"target {COVERAGE_TARGET} %"


def run_pipeline() -> int:
    root = checkout_root()
    for stale in root.glob(".coverage*"):
        stale.unlink()
    steps = [_run_step("sync check", _sync_step)]
    for mode in ("embedded", "services"):
        if mode == "services":
            policy = get_settings().services
            reachable, why = services_status() if policy != "skip" else (False, "COURSE_SERVICES=skip")
            if not reachable:
                outcome = "failed" if policy == "required" else "skipped"
                steps.append(Step("services mode", outcome, 0.0, why))
                console.print(f"[yellow]services mode {outcome}:[/] {why}")
                continue
        steps.append(_run_step(f"checks and machinery ({mode})", _suite_step(mode)))
        steps.append(_run_step(f"notebooks ({mode})", _notebooks_step(mode)))
    steps.append(_run_step("coverage", _coverage_step))
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
