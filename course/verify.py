"""Execute lesson notebooks with nbval against an implementation, and time them.

Against the solutions, stored outputs must match (``strict``: a failing ``check()``
raises). Against the starter, every cell must run without error (``--nbval-lax``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .check_forks import FORKS_ENV, CheckForks
from .config import CELL_TIMEOUT, NBVAL_CONFIG, ROOT_ENV, STRICT_ENV
from .layout import find_lesson, lessons
from .tree import implementation_tree


@dataclass(frozen=True)
class NotebookTiming:
    notebook: str
    wall: float
    floor: float
    cells: int

    @property
    def ratio(self) -> float:
        return self.wall / self.floor if self.floor else float("inf")


@dataclass
class VerifyRun:
    returncode: int
    wall: float
    timings: list[NotebookTiming]
    output: str

    @property
    def floor(self) -> float:
        return sum(timing.floor for timing in self.timings)


def notebooks_for(selectors: list[str] | None) -> list[str]:
    chosen = [find_lesson(selector) for selector in selectors] if selectors else list(lessons())
    return [lesson.notebook for lesson in chosen]


@contextmanager
def forks_for_kernels() -> Iterator[dict[str, str]]:
    """The environment that sends every kernel of a run to one warm fork server, rather than each to its own."""
    try:
        forks = CheckForks()
    except (OSError, RuntimeError):  # each kernel warms a server of its own, as a learner's does
        yield {}
        return
    with forks:
        yield {FORKS_ENV: forks.address}


def verify(
    impl: str = "solutions",
    selectors: list[str] | None = None,
    *,
    strict: bool = True,
    workers: int = 2,
    extra_env: dict[str, str] | None = None,
    stream: bool = False,
) -> VerifyRun:
    """Run notebooks through nbval in parallel; return per-notebook wall time and floor."""
    notebooks = notebooks_for(selectors)
    with (
        implementation_tree(impl) as root,
        tempfile.TemporaryDirectory(prefix="course-verify-") as scratch,
        forks_for_kernels() as forks_env,
    ):
        timing_path = Path(scratch) / "timing.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--no-header",
            "--nbval" if strict else "--nbval-lax",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            NBVAL_CONFIG,
            f"--nbval-cell-timeout={CELL_TIMEOUT}",
            f"--timeout={CELL_TIMEOUT + 30}",
            f"--course-timing={timing_path}",
        ]
        if workers > 1 and len(notebooks) > 1:
            command += ["-n", str(min(workers, len(notebooks))), "--dist", "loadscope"]
        env = {**os.environ, **forks_env, **(extra_env or {}), ROOT_ENV: str(root), STRICT_ENV: "1" if strict else "0"}
        started = time.perf_counter()
        completed = subprocess.run(
            command + notebooks,
            cwd=root,
            env=env,
            stdout=None if stream else subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        wall = time.perf_counter() - started
        try:
            raw = json.loads(timing_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raw = {}
    timings = [
        NotebookTiming(name, round(entry["stop"] - entry["start"], 3), round(entry["calls"], 3), int(entry["items"]))
        for name, entry in sorted(raw.items())
    ]
    return VerifyRun(completed.returncode, wall, timings, completed.stdout or "")
