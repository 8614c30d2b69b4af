"""Grading benchmark: prints a table and writes artifacts/bench-grading.json.

- sandbox overhead per app start: a lab host from the zygote (fork, jail, import the
  lab), and a fresh app (factory and lifespan) from that host's runner;
- seconds per submission for all lessons at -j 1 and -j 2 (copies of the solutions);
- the time to grade 50 copies of the solutions at -j 2.

Targets (from the grading issue): ≤ 0.6 s per lesson per submission; one full
submission ≤ 3 s at -j 2; 50 submissions ≤ 90 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from course.config import SandboxLimits
from course.grading.batch import GradeOptions, grade_all
from course.grading.sandbox_client import ZygoteProcess
from course.grading.sandboxed_labs import SandboxedLabs
from course.layout import checkout_root, lessons
from course.tree import implementation_tree

LESSON = "lesson05_rest"  # the heaviest lab to import


def sandbox_start(runs: int) -> tuple[float, float]:
    """Medians: a lab host from the zygote (fork, jail, import), and a fresh app from its runner."""
    base = Path(tempfile.mkdtemp(prefix="course-bench-"))
    base.chmod(0o711)
    zygote = ZygoteProcess(base / "zygote", SandboxLimits())
    labs = SandboxedLabs(zygote.start(), SandboxLimits())
    hosts, apps = [], []
    try:
        with implementation_tree("solutions") as root:
            root.chmod(0o755)
            for run in range(runs):
                labs.begin(f"bench-{run}", root, checkout_root() / "solutions")
                started = time.perf_counter()
                labs.host(LESSON, {}, time.monotonic() + 30)
                hosts.append(time.perf_counter() - started)
            for _ in range(runs):  # the checks of one learner's lesson, one after another
                started = time.perf_counter()
                host, app = labs._serve(LESSON, {})
                apps.append(time.perf_counter() - started)
                labs._stop_app(host, app)
            labs.end()
    finally:
        zygote.stop()
        shutil.rmtree(base, ignore_errors=True)
    return statistics.median(hosts), statistics.median(apps)


def grade_copies(count: int, jobs: int) -> float:
    paths = [checkout_root() / "solutions"] * count
    with tempfile.TemporaryDirectory() as scratch:
        copies = []
        for index, path in enumerate(paths):  # distinct names: a submission per learner
            copy = Path(scratch) / f"learner{index:03d}"
            shutil.copytree(path, copy / "labs", ignore=shutil.ignore_patterns("__pycache__"))
            copies.append(copy)
        started = time.perf_counter()
        outcomes = grade_all(copies, GradeOptions(jobs=jobs)).outcomes
        elapsed = time.perf_counter() - started
    failed = [o for o in outcomes if o.status != "passed"]
    if failed:
        raise SystemExit(f"solutions lost points while benchmarking: {failed[0]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--many", type=int, default=50, help="submissions in the batch test")
    parser.add_argument("--out", type=Path, default=checkout_root() / "artifacts" / "bench-grading.json")
    args = parser.parse_args()
    lesson_count = len(lessons())
    per_j1 = grade_copies(4, 1) / 4
    per_j2 = grade_copies(4, 2) / 4
    one_j2 = grade_copies(1, 2)  # alone: its lessons share both workers
    many = grade_copies(args.many, 2)
    host_start, app_start = sandbox_start(10)
    results = {
        "lessons": lesson_count,
        "lab_host_start_median_s (lesson 05)": round(host_start, 4),
        "app_start_in_runner_median_s (lesson 05)": round(app_start, 4),
        "seconds_per_submission_j1": round(per_j1, 3),
        "seconds_per_submission_j2": round(per_j2, 3),
        "seconds_per_lesson_per_submission_j2": round(per_j2 / lesson_count, 3),
        "seconds_one_submission_alone_j2 (with start-up)": round(one_j2, 3),
        f"seconds_for_{args.many}_submissions_j2": round(many, 1),
    }
    table = Table(title="grading")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in results.items():
        table.add_row(key, str(value))
    Console().print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
