"""Grading benchmark: prints a table and writes artifacts/bench-grading.json.

- sandbox overhead per app start: a lab host from the zygote (fork, jail, import the
  lab), and a fresh app (factory and lifespan) from that host's runner;
- seconds per submission for all lessons at -j 1 and -j 2 (copies of the solutions);
- the time to grade 50 copies of the solutions at -j 2;
- with ``--cache``: re-grading 50 submissions of lessons 01-05 after 5 learners changed one
  lesson each, against the full grade, and what one cache hit costs (``course grade --cache``).

- with ``--per-lesson``: each lesson's CPU seconds per exercise in the sandbox, start-up left
  out (one copy graded alone against three graded together): where the grading CPU goes.

- with ``--rebased``: the whole course's targets. One submission of all lessons checked
  in-process (``course check --impl``) and graded in the sandbox at -j 1, side by side
  (wall and CPU); CPU-seconds per exercise, for that one submission and for a class of six
  at -j 2, which pays the start-up once; and ``course grade --broker`` on 1, 2 and 4
  ``course grade-node`` processes (lessons 01-05), with the per-worker throughput.

Targets (from the grading issues): ≤ 0.6 s per lesson per submission; one full
submission ≤ 3 s at -j 2; 50 submissions ≤ 90 s on a 2-core machine. Re-based for
16 lessons: ≤ 0.2 CPU-seconds per exercise; the sandbox ≤ 1.3× the in-process checks;
a cache hit < 10 ms; --broker throughput that grows with the workers.

CPU is read machine-wide from /proc/stat, so that jailed processes count too: run the
benchmark on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.table import Table

from course.checks import run_checks
from course.config import SandboxLimits, get_settings
from course.grading.batch import GradeOptions, grade_all
from course.grading.cache import GradeCache, lesson_context
from course.grading.distributed import grade_distributed, grading_nodes
from course.grading.sandbox_client import ZygoteProcess
from course.grading.sandboxed_labs import SandboxedLabs
from course.layout import checkout_root, lessons
from course.tree import implementation_tree

LESSON = "lesson05_rest"  # the heaviest lab to import
CLASS_SIZE = 6  # submissions graded together in the side-by-side's class figure
T = TypeVar("T")


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
    with tempfile.TemporaryDirectory() as scratch:
        copies = copies_of_solutions(Path(scratch), count)
        started = time.perf_counter()
        outcomes = grade_all(copies, GradeOptions(jobs=jobs)).outcomes
        elapsed = time.perf_counter() - started
    failed = [o for o in outcomes if o.status != "passed"]
    if failed:
        raise SystemExit(f"solutions lost points while benchmarking: {failed[0]}")
    return elapsed


def copies_of_solutions(scratch: Path, count: int) -> list[Path]:
    copies = []
    for index in range(count):  # distinct names: a submission per learner
        copy = scratch / f"learner{index:03d}"
        shutil.copytree(checkout_root() / "solutions", copy / "labs", ignore=shutil.ignore_patterns("__pycache__"))
        copies.append(copy)
    return copies


def regrade_with_cache(count: int, changed: int, lesson_numbers: list[str]) -> dict[str, float]:
    """A full grade into a cold cache, then a re-grade after ``changed`` learners each changed one lesson."""
    chosen = [lesson for lesson in lessons() if str(lesson.number) in lesson_numbers]
    with tempfile.TemporaryDirectory() as scratch:
        copies = copies_of_solutions(Path(scratch), count)
        options = GradeOptions(lessons=lesson_numbers, jobs=2, cache=Path(scratch) / "cache")
        started = time.perf_counter()
        cold = grade_all(copies, options)
        full = time.perf_counter() - started
        for index in range(changed):  # a comment added: new content, the same verdicts
            package = copies[index] / "labs" / chosen[index % len(chosen)].package
            (package / "__init__.py").write_text((package / "__init__.py").read_text() + "# resubmitted\n")
        started = time.perf_counter()
        warm = grade_all(copies, options)
        regrade = time.perf_counter() - started
        if warm.graded_jobs != changed or [o.status for o in warm.outcomes] != [o.status for o in cold.outcomes]:
            raise SystemExit(f"the re-grade graded {warm.graded_jobs} lessons, or changed a verdict")
        cache = GradeCache(Path(scratch) / "cache")
        contexts = {
            lesson: lesson_context(lesson, list(lesson.exercises), [], options.verdict_options()) for lesson in chosen
        }
        started = time.perf_counter()
        for copy in copies:
            for lesson in chosen:
                assert cache.get(cache.key(contexts[lesson], copy / "labs", lesson), copy.name) is not None
        hit = (time.perf_counter() - started) / (count * len(chosen))
    return {
        f"seconds_full_grade_{count}_submissions_lessons_{'-'.join(lesson_numbers)}": round(full, 1),
        f"seconds_regrade_after_{changed}_changed_lessons": round(regrade, 1),
        "regrade_speed_up": round(full / regrade, 1),
        "milliseconds_per_cache_hit (hash the lesson, read the entry)": round(hit * 1000, 2),
    }


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (every process, jailed ones included)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle and iowait; the rest (user, nice, system, irq, softirq, steal) is busy
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def timed(run: Callable[[], T]) -> tuple[T, float, float]:
    """What ``run`` returned, its wall seconds and the machine's busy CPU seconds meanwhile."""
    wall, cpu = time.perf_counter(), busy_cpu_seconds()
    result = run()
    return result, time.perf_counter() - wall, busy_cpu_seconds() - cpu


def side_by_side(scratch: Path) -> dict[str, float]:
    """One submission of every lesson: in-process checks against sandboxed grading at -j 1; then a class at -j 2."""
    copy = copies_of_solutions(scratch, 1)[0]
    exercises = sum(len(lesson.exercises) for lesson in lessons())
    checked, check_wall, check_cpu = timed(lambda: run_checks(impl=copy / "labs"))
    if not checked.passed:
        raise SystemExit(f"the solutions failed a check in-process: {checked.results}")
    graded, grade_wall, grade_cpu = timed(lambda: grade_all([copy], GradeOptions(jobs=1)).outcomes)
    if any(outcome.status != "passed" for outcome in graded):
        raise SystemExit("the solutions lost points in the sandbox")
    # A class: start-up (the sandbox server, the check workers) is paid once for all its submissions.
    many = copies_of_solutions(scratch / "class", CLASS_SIZE)
    _, many_wall, many_cpu = timed(lambda: grade_all(many, GradeOptions(jobs=2)))
    return {
        "exercises": exercises,
        "in-process: wall s (course check --impl, all lessons)": round(check_wall, 1),
        "in-process: CPU s": round(check_cpu, 1),
        "sandbox -j 1: wall s (course grade, one submission)": round(grade_wall, 1),
        "sandbox -j 1: CPU s": round(grade_cpu, 1),
        "sandbox / in-process, wall": round(grade_wall / check_wall, 2),
        "sandbox / in-process, CPU": round(grade_cpu / check_cpu, 2),
        "CPU s per exercise, sandbox -j 1": round(grade_cpu / exercises, 3),
        f"{CLASS_SIZE} submissions at -j 2: wall s": round(many_wall, 1),
        f"CPU s per exercise, {CLASS_SIZE} submissions at -j 2": round(many_cpu / (CLASS_SIZE * exercises), 3),
    }


def cpu_per_lesson(scratch: Path) -> dict[str, float]:
    """In-process CPU seconds per exercise of each lesson: where the grading time goes."""
    copy = copies_of_solutions(scratch / "per-lesson", 1)[0]
    results = {}
    for lesson in lessons():
        _, _, cpu = timed(partial(run_checks, [lesson.package], impl=copy / "labs"))
        results[f"in-process CPU s per exercise, {lesson.package}"] = round(cpu / len(lesson.exercises), 2)
    return results


def sandbox_cpu_per_lesson(scratch: Path, copies: int = 3) -> dict[str, float]:
    """Each lesson's CPU seconds per exercise in the sandbox, start-up left out.

    One copy graded alone pays the start-up (sandbox server, check worker); ``copies`` more
    graded together pay it once too, so the difference is what the lesson's checks cost.
    """
    learners = copies_of_solutions(scratch / "sandbox-per-lesson", copies + 1)
    results, total = {}, 0.0
    for lesson in lessons():
        options = GradeOptions(lessons=[str(lesson.number)], jobs=1)
        _, _, alone = timed(partial(grade_all, learners[:1], options))
        graded, _, together = timed(partial(grade_all, learners[1:], options))
        if any(outcome.status != "passed" for outcome in graded.outcomes):
            raise SystemExit(f"the solutions lost points in {lesson.package}")
        per_job = (together - alone) / (copies - 1)
        total += per_job
        results[f"sandbox CPU s per exercise, {lesson.package}"] = round(per_job / len(lesson.exercises), 2)
    exercises = sum(len(lesson.exercises) for lesson in lessons())
    results["sandbox CPU s per exercise, all lessons (start-up left out)"] = round(total / exercises, 3)
    return results


def broker_scaling(scratch: Path, submissions: int, lesson_numbers: list[str]) -> dict[str, float]:
    """``course grade --broker`` with 1, 2 and 4 ``course grade-node`` processes on this machine."""
    broker = get_settings().redis_url.rsplit("/", 1)[0] + "/15"
    copies = copies_of_solutions(scratch / "broker", submissions)
    results: dict[str, float] = {}
    for workers in (1, 2, 4):
        queue = f"course.grading.bench-{os.getpid()}-{workers}"
        with grading_nodes(broker, queue, workers):
            options = GradeOptions(lessons=lesson_numbers)
            graded, wall, _ = timed(partial(grade_distributed, copies, options, broker, queue=queue))
        if any(outcome.status != "passed" for outcome in graded.outcomes):
            raise SystemExit("the solutions lost points on the grading nodes")
        results[f"--broker, {workers} worker(s): submissions per minute"] = round(60 * submissions / wall, 1)
    per_worker = results["--broker, 1 worker(s): submissions per minute"]
    results["projected, 10 two-core nodes x 2 workers: submissions per minute"] = round(
        per_worker * 20 * min(1.0, results["--broker, 2 worker(s): submissions per minute"] / (2 * per_worker)), 1
    )
    return results


def rebased(broker_submissions: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        results = side_by_side(Path(scratch))
        results.update(cpu_per_lesson(Path(scratch)))
        results.update(broker_scaling(Path(scratch), broker_submissions, ["1", "2", "3", "4", "5"]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--many", type=int, default=50, help="submissions in the batch test")
    parser.add_argument("--out", type=Path, default=checkout_root() / "artifacts" / "bench-grading.json")
    parser.add_argument("--cache", action="store_true", help="only the incremental re-grade with --cache")
    parser.add_argument("--rebased", action="store_true", help="only the whole-course targets (side by side, broker)")
    parser.add_argument("--per-lesson", action="store_true", help="only each lesson's CPU per exercise in the sandbox")
    args = parser.parse_args()
    if args.per_lesson:
        with tempfile.TemporaryDirectory() as scratch:
            show(sandbox_cpu_per_lesson(Path(scratch)), args.out.with_name("bench-grading-per-lesson.json"))
        return
    if args.rebased:
        show(rebased(min(args.many, 8)), args.out.with_name("bench-grading-rebased.json"))
        return
    if args.cache:
        show(
            regrade_with_cache(args.many, min(5, args.many), ["1", "2", "3", "4", "5"]),
            args.out.with_name("bench-grading-cache.json"),
        )
        return
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
    show(results, args.out)


def show(results: dict[str, float], out: Path) -> None:
    table = Table(title="grading")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in results.items():
        table.add_row(key, str(value))
    Console().print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
