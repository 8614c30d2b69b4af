"""Grading benchmark: prints a table and writes artifacts/bench-grading.json.

- sandbox overhead per app start (fork from the zygote to a serving socket, and kill);
- seconds per submission for all lessons at -j 1 and -j 2 (copies of the solutions);
- the time to grade 50 copies of the solutions at -j 2.

Targets (from the grading issue): ≤ 0.6 s per lesson per submission; one full
submission ≤ 3 s at -j 2; 50 submissions ≤ 90 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from course.grading.runner import GradeOptions, grade_all
from course.grading.sandbox import Limits
from course.grading.zygote import Zygote
from course.layout import checkout_root, lessons
from course.tree import implementation_tree

LESSON = "lesson01_endpoints"


def sandbox_start(runs: int) -> float:
    base = Path(tempfile.mkdtemp(prefix="course-bench-"))
    base.chmod(0o711)
    zygote = Zygote(base / "zygote", Limits())
    client = zygote.start()
    times = []
    try:
        with implementation_tree("solutions") as root:
            root.chmod(0o755)
            for _ in range(runs):
                started = time.perf_counter()
                spawned = client.request("spawn", tree=str(root), owner="bench", lesson=LESSON, env={})
                while not os.path.exists(spawned["socket"]):
                    time.sleep(0.002)
                client.request("kill", pid=spawned["pid"])
                times.append(time.perf_counter() - started)
    finally:
        zygote.stop()
    return statistics.median(times)


def grade_copies(count: int, jobs: int) -> float:
    paths = [checkout_root() / "solutions"] * count
    with tempfile.TemporaryDirectory() as scratch:
        copies = []
        for index, path in enumerate(paths):  # distinct names: a submission per learner
            copy = Path(scratch) / f"learner{index:03d}"
            shutil.copytree(path, copy / "labs", ignore=shutil.ignore_patterns("__pycache__"))
            copies.append(copy)
        started = time.perf_counter()
        outcomes = grade_all(copies, GradeOptions(jobs=jobs))
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
    many = grade_copies(args.many, 2)
    results = {
        "lessons": lesson_count,
        "sandbox_start_median_s": round(sandbox_start(20), 4),
        "seconds_per_submission_j1": round(per_j1, 3),
        "seconds_per_submission_j2": round(per_j2, 3),
        "seconds_per_lesson_per_submission_j2": round(per_j2 / lesson_count, 3),
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
