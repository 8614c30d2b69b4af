"""Course benchmark: prints a table and writes artifacts/bench.json.

- nbval wall time per notebook against its floor (the sum of its cells' execution
  times), and for the whole course run;
- latency of `course check` for one exercise, as a learner runs it;
- lab start-up (import plus lifespan), cold in a fresh interpreter and warm as a
  repeated `lab()` call in a kernel;
- median in-process request latency.

Targets (from the platform issue): course nbval ≤ 1.5 × floor, check ≤ 1.5 s,
lab start-up ≤ 0.3 s, median request ≤ 1 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from course.config import ROOT_ENV
from course.harness import create_app, import_lab, serve_in_process
from course.layout import checkout_root
from course.tree import implementation_tree
from course.verify import verify

LESSON = "lesson01_endpoints"
COLD_START = f"""
import time, asyncio
started = time.perf_counter()
from course.harness import open_lab
async def main():
    async with open_lab({LESSON!r}) as client:
        print(time.perf_counter() - started)
asyncio.run(main())
"""


def bench_nbval(runs: int) -> dict:
    results = [verify("solutions", workers=2) for _ in range(runs)]
    for result in results:
        if result.returncode != 0:
            raise SystemExit(f"nbval failed:\n{result.output[-3000:]}")
    best = min(results, key=lambda result: result.wall)
    return {
        "course_wall": round(best.wall, 3),
        "course_floor": round(best.floor, 3),
        "course_ratio": round(best.wall / best.floor, 3),
        "notebooks": [
            {"notebook": t.notebook, "cells": t.cells, "wall": t.wall, "floor": t.floor, "ratio": round(t.ratio, 3)}
            for t in best.timings
        ],
    }


def bench_check(runs: int, root: Path) -> dict:
    course = Path(sys.executable).parent / "course"
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(course), "check", "1.1"], env=_env(root), capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return {"median": round(statistics.median(times), 3), "runs": runs}


def _env(root: Path) -> dict[str, str]:
    import os

    return {**os.environ, ROOT_ENV: str(root)}


def bench_startup(runs: int, root: Path) -> dict:
    cold = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", COLD_START], env=_env(root), capture_output=True, text=True, check=True
        )
        cold.append(float(out.stdout.strip()))

    async def warm_once() -> float:
        started = time.perf_counter()
        import_lab(LESSON, fresh=True)
        async with serve_in_process(create_app(LESSON, fresh=False)):
            return time.perf_counter() - started

    warm = [asyncio.run(warm_once()) for _ in range(runs)]
    return {"cold_median": round(statistics.median(cold), 4), "warm_median": round(statistics.median(warm), 4)}


def bench_requests(count: int) -> dict:
    async def run() -> list[float]:
        times = []
        async with serve_in_process(create_app(LESSON)) as client:
            for _ in range(50):  # warm-up
                await client.get("/users/1")
            for _ in range(count):
                started = time.perf_counter()
                response = await client.get("/users/1")
                times.append(time.perf_counter() - started)
                assert response.status_code == 200
        return times

    times = asyncio.run(run())
    return {"median_ms": round(statistics.median(times) * 1000, 3), "requests": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=checkout_root() / "artifacts" / "bench.json")
    args = parser.parse_args()
    import os

    with implementation_tree("solutions") as root:
        os.environ[ROOT_ENV] = str(root)
        results = {
            "nbval": bench_nbval(args.runs),
            "check": bench_check(max(args.runs, 5), root),
            "startup": bench_startup(max(args.runs, 5), root),
            "requests": bench_requests(2000),
        }
    targets = [
        ("nbval course wall / floor", results["nbval"]["course_ratio"], 1.5, "×"),
        ("course check 1.1 (median)", results["check"]["median"], 1.5, "s"),
        ("lab start-up, warm lab() (median)", results["startup"]["warm_median"], 0.3, "s"),
        ("lab start-up, cold interpreter (median)", results["startup"]["cold_median"], None, "s"),
        ("in-process request (median)", results["requests"]["median_ms"], 1.0, "ms"),
    ]
    results["targets"] = [
        {"measure": m, "value": v, "target": t, "unit": u, "met": t is None or v <= t} for m, v, t, u in targets
    ]
    console = Console()
    table = Table(title="nbval per notebook (best of runs)")
    for column in ("notebook", "cells", "wall s", "floor s", "ratio"):
        table.add_column(column)
    for row in results["nbval"]["notebooks"]:
        table.add_row(
            row["notebook"], str(row["cells"]), f"{row['wall']:.2f}", f"{row['floor']:.2f}", f"{row['ratio']:.2f}"
        )
    nb = results["nbval"]
    table.add_row(
        "course (elapsed, 2 workers)",
        "",
        f"{nb['course_wall']:.2f}",
        f"{nb['course_floor']:.2f}",
        f"{nb['course_ratio']:.2f}",
    )
    console.print(table)
    summary = Table(title="targets")
    for column in ("measure", "value", "target", "met"):
        summary.add_column(column)
    for row in results["targets"]:
        target = "-" if row["target"] is None else f"≤ {row['target']} {row['unit']}"
        summary.add_row(row["measure"], f"{row['value']} {row['unit']}", target, "yes" if row["met"] else "NO")
    console.print(summary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    console.print(f"written {args.out}")


if __name__ == "__main__":
    main()
