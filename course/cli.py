"""The ``course`` command: list, check, sync, verify, serve and test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .checks import CheckRun, render, run_checks
from .config import CHECK_TIMEOUT, FAR_TIME_ZONE, GRADING_QUEUE, STRENGTH_JOBS, SUBMISSION_TIMEOUT, SandboxLimits
from .layout import find_lesson, lessons

app = typer.Typer(help="FastAPI Course Lab: lessons, checks and the tools around them.", no_args_is_help=True)
console = Console(highlight=False)


def _implementation(impl: str) -> str:
    """``--impl``, refused at once with the reason when it names no directory of labs."""
    from .tree import resolve_implementation

    try:
        resolve_implementation(impl)
    except FileNotFoundError as exc:
        raise typer.BadParameter(f"{exc} (give labs, solutions, or a folder holding lesson packages)") from None
    return impl


Impl = Annotated[
    str, typer.Option("--impl", help="labs, solutions, or a directory of lesson packages", callback=_implementation)
]


def _with_progress(work: Callable[[Callable[[int, int], None]], CheckRun]) -> CheckRun:
    """Run ``work``, showing how many checks have finished so far on the terminal."""
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("checks", total=None)
        return work(lambda done, expected: bar.update(task, completed=done, total=expected))


@app.command("list")
def list_lessons(
    selectors: Annotated[
        list[str] | None, typer.Argument(help="lessons (1, lesson01_endpoints); all by default")
    ] = None,
    run: Annotated[bool, typer.Option("--run/--no-run", help="run the checks to show pass state")] = True,
    impl: Impl = "labs",
) -> None:
    """Lessons, their exercises and points, and whether your labs pass them."""
    from .sync import exercise_tasks

    try:
        shown = [find_lesson(selector) for selector in selectors] if selectors else list(lessons())
    except LookupError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    chosen = [lesson.package for lesson in shown]
    state = _with_progress(lambda progress: run_checks(chosen, impl=impl, progress=progress)) if run else None
    tasks = exercise_tasks()
    table = Table(title="FastAPI Course Lab")
    for column in ("lesson", "exercise", "task", "points", "state"):
        table.add_column(column)
    for lesson in shown:
        first = True
        for exercise in lesson.exercises:
            if state is None:
                verdict = "-"
            else:
                verdict = "[green]pass[/]" if state.exercise_passed(exercise.id) else "[red]todo[/]"
            label = lesson.title if first else ""
            table.add_row(label, exercise.id, tasks.get(exercise.id, ""), str(exercise.points), verdict)
            first = False
    console.print(table)
    if state is not None:
        earned, total = state.score
        console.print(f"{earned}/{total} points")


@app.command()
def check(
    selectors: Annotated[
        list[str] | None, typer.Argument(help="exercise ids (1.2) or lessons (1, lesson01_endpoints)")
    ] = None,
    impl: Impl = "labs",
    timeout: Annotated[float | None, typer.Option(help="seconds per check")] = None,
) -> None:
    """Check your work. Exit code 0 only when every selected check passes."""
    try:
        run = _with_progress(
            lambda progress: run_checks(selectors or [], impl=impl, timeout=timeout, progress=progress)
        )
    except LookupError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    render(run, console)
    raise typer.Exit(0 if run.passed else 1)


@app.command()
def sync(
    check: Annotated[bool, typer.Option("--check", help="only report; exit 1 when labs/ is out of step")] = False,
    force: Annotated[bool, typer.Option("--force", help="overwrite lab files edited by hand")] = False,
) -> None:
    """Generate labs/ from solutions/ (for course maintainers)."""
    from .sync import sync as run_sync

    report = run_sync(check=check, force=force)
    if report.refused and not force and not check:
        console.print("[red]These lab files were edited since they were generated; nothing was written:[/]")
        for name in report.refused:
            console.print(f"  labs/{name}")
        console.print("Keep your work, or pass --force to overwrite it.")
        raise typer.Exit(1)
    if check:
        if report.in_step:
            console.print("labs/ is in step with solutions/")
            return
        for name in report.changed:
            console.print(f"[red]out of step:[/] labs/{name}")
        for name in report.removed:
            console.print(f"[red]not in solutions:[/] labs/{name}")
        raise typer.Exit(1)
    changed = len(report.changed) + len(report.removed)
    console.print(f"labs/ regenerated: {changed} file(s) written or removed")


@app.command()
def verify(
    impl: Impl = "solutions",
    selectors: Annotated[list[str] | None, typer.Argument(help="lessons; all by default")] = None,
    lax: Annotated[bool, typer.Option("--lax", help="only require that cells run without error")] = False,
    workers: Annotated[int, typer.Option("-j", help="parallel kernels")] = 2,
) -> None:
    """Run notebooks through nbval and print a per-notebook timing table."""
    from .verify import verify as run_verify

    result = run_verify(impl, selectors, strict=not lax, workers=workers)
    table = Table(title=f"nbval against {impl}")
    for column in ("notebook", "cells", "wall s", "floor s", "ratio"):
        table.add_column(column, justify="left" if column == "notebook" else "right")
    for timing in result.timings:
        table.add_row(
            timing.notebook, str(timing.cells), f"{timing.wall:.2f}", f"{timing.floor:.2f}", f"{timing.ratio:.2f}"
        )
    table.add_row(
        "[bold]course (elapsed)",
        "",
        f"{result.wall:.2f}",
        f"{result.floor:.2f}",
        f"{result.wall / result.floor if result.floor else 0:.2f}",
    )
    if result.returncode != 0:
        console.print(result.output, markup=False)
    console.print(table)
    raise typer.Exit(result.returncode)


@app.command()
def serve(
    lesson: Annotated[str, typer.Argument(help="lesson number or package, e.g. 1 or lesson01_endpoints")],
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8000,
    reload: Annotated[bool, typer.Option(help="restart when the lab changes")] = False,
) -> None:
    """Serve a lab on a real port; its Swagger UI is at /docs."""
    import os

    import uvicorn

    from .config import ROOT_ENV, SERVE_LESSON_ENV
    from .layout import tree_root

    package = find_lesson(lesson).package
    root = tree_root()
    os.environ.setdefault(ROOT_ENV, str(root))
    os.environ[SERVE_LESSON_ENV] = package
    console.print(f"Swagger UI: http://127.0.0.1:{port}/docs")
    uvicorn.run(
        "course.cli:_served_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        reload=reload,
        reload_dirs=[str(root / "labs" / package)] if reload else None,
    )


def _served_app() -> Any:
    """The lab named by COURSE_SERVE_LESSON, with Swagger UI that works offline."""
    import os

    from .config import SERVE_LESSON_ENV
    from .harness import create_app
    from .offline_docs import OfflineDocs

    return OfflineDocs(create_app(os.environ[SERVE_LESSON_ENV]))


@app.command()
def record(
    lessons_: Annotated[
        list[str] | None,
        typer.Argument(metavar="[LESSON]...", help="lessons whose notebooks to re-run; all by default"),
    ] = None,
) -> None:
    """Re-execute notebooks against the solutions and store their outputs (for maintainers)."""
    from .record import record as run_record

    for selector in lessons_ or [lesson.package for lesson in lessons()]:
        console.print(f"recorded {run_record(selector)}")


@app.command()
def submit(
    name: Annotated[str, typer.Option("--name", help="your name, as the instructor knows you")],
    out: Annotated[Path, typer.Option(help="where the zip goes")] = Path("submissions"),
) -> None:
    """Pack your labs/ into submissions/NAME.zip for your instructor."""
    from .grading.submissions import pack
    from .layout import tree_root

    target = pack(name, tree_root() / "labs", out)
    console.print(f"wrote {target}")


@app.command()
def collect(
    homes: Annotated[str, typer.Argument(help="a quoted pattern of homes, e.g. '/home/*/fastapi-course-lab'")],
    out: Annotated[Path, typer.Option("--out", help="empty, or an earlier collection: gets <learner>/labs/")],
    strip: Annotated[str | None, typer.Option(help="prefix dropped from the home's name [default: jupyter-]")] = None,
    max_mb: Annotated[int | None, typer.Option(min=1, help="per learner, MB [default: what grade accepts]")] = None,
    max_file_mb: Annotated[int | None, typer.Option(min=1, help="per file, MB; larger files are skipped")] = None,
) -> None:
    """Gather every learner's labs/ from their home into OUT/<learner>/labs/, ready for `course grade`."""
    from rich.text import Text

    from .collect import FILE_BYTES, REPORT, STRIP, NothingMatched
    from .collect import collect as run_collect
    from .config import SubmissionLimits
    from .grading.reports import OutputRefused

    limits = SubmissionLimits() if max_mb is None else SubmissionLimits(unpacked_bytes=max_mb << 20)
    file_bytes = FILE_BYTES if max_file_mb is None else max_file_mb << 20
    try:
        rows = run_collect(homes, out, limits=limits, file_bytes=file_bytes, strip=STRIP if strip is None else strip)
    except (NothingMatched, OutputRefused) as refused:
        console.print("[red]nothing collected:[/red]", Text(str(refused)))
        raise typer.Exit(2) from None
    table = Table(title=f"course collect → {out}")
    for column in ("learner", "status", "files", "bytes", "skipped", "detail"):
        table.add_column(column, justify="right" if column in ("files", "bytes", "skipped") else "left")
    for row in rows:  # paths are the learners' own: shown as text, never as markup
        cells = (row.learner, row.status, str(row.files), str(row.bytes), str(len(row.skipped)), row.detail)
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table)
    collected = sum(row.status == "collected" for row in rows)
    console.print(f"collected {collected} of {len(rows)} home(s): {out / REPORT}")


_LIMITS = SandboxLimits()


@app.command()
def grade(
    submissions: Annotated[list[Path], typer.Argument(help="zips, directories holding labs/, or labs/ directories")],
    out: Annotated[Path, typer.Option("--out", help="directory for the gradebook and feedback")],
    hidden: Annotated[Path | None, typer.Option(help="directory of hidden checks, as tests/exercises")] = None,
    lessons_: Annotated[str, typer.Option("--lessons", help="comma-separated lessons; all by default")] = "",
    jobs: Annotated[int, typer.Option("-j", help="check workers: lessons graded at once")] = 2,
    timeout: Annotated[float, typer.Option(help="seconds per check")] = CHECK_TIMEOUT,
    submission_timeout: Annotated[float, typer.Option(help="seconds per submission")] = SUBMISSION_TIMEOUT,
    only: Annotated[list[str] | None, typer.Option(help="re-grade only this learner (repeatable)")] = None,
    exercise: Annotated[list[str] | None, typer.Option(help="re-grade only this exercise (repeatable)")] = None,
    broker: Annotated[str | None, typer.Option(help="redis://... : grade on `course grade-node` processes")] = None,
    queue: Annotated[str, typer.Option(help="the broker queue the grading nodes listen on")] = GRADING_QUEUE,
    cache: Annotated[
        Path | None, typer.Option(help="grade only lessons whose files or checks changed since a run with this cache")
    ] = None,
    cpu_seconds: Annotated[int, typer.Option(help="sandbox: CPU seconds per lab process")] = _LIMITS.cpu_seconds,
    memory_mb: Annotated[int, typer.Option(help="sandbox: memory per lab process, MB")] = _LIMITS.memory_bytes >> 20,
    processes: Annotated[int, typer.Option(help="sandbox: processes per learner")] = _LIMITS.processes,
    disk_mb: Annotated[int, typer.Option(help="sandbox: each writable tmpfs, and each file, MB")] = _LIMITS.tmpfs_bytes
    >> 20,
    lms_map: Annotated[
        Path | None, typer.Option(help="CSV learner,name,id,sis_user_id,sis_login_id,section: adds canvas/moodle.csv")
    ] = None,
    canvas_assignments: Annotated[
        Path | None, typer.Option(help="CSV lesson,assignment_id: canvas.csv updates these Canvas assignments")
    ] = None,
    similarity: Annotated[bool, typer.Option(help="class report: pairs of learners whose code is alike")] = True,
    similarity_threshold: Annotated[float, typer.Option(min=0.0, max=1.0, help="least similarity reported")] = 0.8,
) -> None:
    """Grade a class: every submission in sandboxes, then gradebook.csv, results.json and feedback."""
    from rich.markup import escape
    from rich.progress import Progress

    from .grading.batch import GradeOptions, GradingError, grade_all
    from .grading.exports import LmsMapError, read_canvas_assignments, read_lms_map, write_exports
    from .grading.reports import OutputRefused, write_reports
    from .grading.submissions import submission_name

    try:  # a bad map is found before an hour of grading, not after
        identities = read_lms_map(lms_map) if lms_map else None
        assignment_ids = read_canvas_assignments(canvas_assignments) if canvas_assignments else None
    except LmsMapError as bad:
        console.print(f"[red]LMS files:[/red] {escape(str(bad))}")
        raise typer.Exit(2) from None
    if assignment_ids and identities is None:
        console.print("[red]--canvas-assignments needs --lms-map: canvas.csv identifies learners by their LMS ids[/]")
        raise typer.Exit(2)
    chosen = [path for path in submissions if not only or submission_name(path) in only]
    limits = SandboxLimits(
        cpu_seconds=cpu_seconds,
        memory_bytes=memory_mb << 20,
        processes=processes,
        file_bytes=min(_LIMITS.file_bytes, disk_mb << 20),
        tmpfs_bytes=disk_mb << 20,
    )
    options = GradeOptions(
        lessons=[lesson for lesson in lessons_.split(",") if lesson],
        exercises=exercise or [],
        hidden=hidden,
        jobs=jobs,
        check_timeout=timeout,
        submission_timeout=submission_timeout,
        limits=limits,
        cache=cache,
    )
    if cache is not None and broker:
        console.print("[red]--cache works with local grading only, not with --broker[/]")
        raise typer.Exit(2)
    with Progress(console=console) as progress:
        task = progress.add_task("grading", total=len(chosen))
        advance = lambda name: progress.advance(task)  # noqa: E731 - a one-line callback
        try:
            if broker:
                from .grading.distributed import grade_distributed

                graded = grade_distributed(chosen, options, broker, progress=advance, queue=queue)
            else:
                graded = grade_all(chosen, options, progress=advance)
        except GradingError as failure:  # the grader's own failure, not a learner's
            console.print(f"[red]grading failed:[/red] {failure}")
            raise typer.Exit(2) from failure
    similar = None
    if similarity:  # for the instructor's class view only: it changes no score
        from .grading.similarity import class_similarity

        similar = class_similarity(chosen, graded.outcomes, similarity_threshold)
    try:
        write_reports(graded.outcomes, out, notes=graded.shortfalls, similarity=similar)
        for warning in write_exports(graded.outcomes, out, identities=identities, assignment_ids=assignment_ids):
            console.print(f"[yellow]LMS export:[/yellow] {escape(warning)}")
    except OutputRefused as refused:
        console.print(f"[red]no reports written:[/red] {refused}")
        raise typer.Exit(2) from refused
    for note in graded.shortfalls:
        console.print(f"[yellow]sandbox weaker than intended:[/yellow] {note}")
    earned = sum(outcome.earned for outcome in graded.outcomes)
    console.print(f"graded {len(chosen)} submission(s), {earned} points in all: {out / 'gradebook.csv'}")
    if cache is not None:
        console.print(f"{graded.cached_jobs} lesson(s) from the cache, {graded.graded_jobs} graded: {cache}")


@app.command("grade-node")
def grade_node(
    broker: Annotated[str, typer.Option(help="the redis://... URL that `course grade --broker` uses")],
    concurrency: Annotated[int, typer.Option(help="submissions graded at once")] = 1,
    queue: Annotated[str, typer.Option(help="the queue `course grade --queue` sends to")] = GRADING_QUEUE,
) -> None:
    """A grading node: grade submissions sent by `course grade --broker`, with this machine's sandbox."""
    from .grading.distributed import make_app

    node = make_app(broker, queue).Worker(queues=[queue], concurrency=concurrency, pool="prefork", loglevel="WARNING")
    node.start()
    raise typer.Exit(node.exitcode or 0)


hidden_app = typer.Typer(help="Hidden checks: tell learners' checkouts that they exist, without shipping them.")
app.add_typer(hidden_app, name="hidden")


@hidden_app.command("describe")
def hidden_describe(
    directory: Annotated[Path, typer.Argument(help="the hidden checks of `course grade --hidden`")],
    out: Annotated[
        Path | None, typer.Option("--out", help="where to write; by default hidden-checks.json here")
    ] = None,
) -> None:
    """Write hidden-checks.json: per exercise, the number of hidden checks and their points; nothing else."""
    from rich.markup import escape

    from .hidden import HiddenChecksError, default_path, describe, dumps

    target = out or default_path()
    try:
        described = describe(directory)
        target.write_text(dumps(described), encoding="utf-8")
    except (HiddenChecksError, OSError) as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(2) from None
    counts = [count for found in described.values() for count in found.values()]
    checks, points = sum(count.checks for count in counts), sum(count.points for count in counts)
    console.print(f"{target}: {checks} hidden check(s) worth {points} point(s) in {len(counts)} exercise(s).")
    console.print("It holds no names and no source: commit it to the learners' repository.")


strength_app = typer.Typer(help="Check strength: planted bugs must lose points, correct alternatives must not.")
app.add_typer(strength_app, name="strength")


@strength_app.command("run")
def strength_run(
    selectors: Annotated[list[str] | None, typer.Argument(help="lessons; all by default")] = None,
    only: Annotated[list[str] | None, typer.Option(help="only this variant (its patch name; repeatable)")] = None,
    jobs: Annotated[int, typer.Option("-j", help="grading batches and self-checks at once")] = STRENGTH_JOBS,
    tz: Annotated[str, typer.Option(help="the time zone the labs run in")] = FAR_TIME_ZONE,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="each variant, and the checks it failed")] = False,
) -> None:
    """Grade every planted bug and correct alternative as `course check` and as `course grade` do."""
    from .strength import details, measure, problems, render, summary

    results = measure(
        selectors or [], only=only or [], jobs=jobs, tz=tz, progress=lambda line: console.print(f"  {line}")
    )
    for lesson in results if verbose else ():
        for line in details(lesson):
            console.print(line, markup=False, highlight=False)
    render(results, console)
    found = [problem for lesson in results for problem in problems(lesson)]
    for problem in found:
        console.print(f"[red]✗[/] {problem}", highlight=False)
    console.print(summary(results))
    raise typer.Exit(1 if found else 0)


@strength_app.command("draft")
def strength_draft(
    lesson: Annotated[str, typer.Argument(help="lesson number or package")],
    dest: Annotated[Path, typer.Argument(help="a new directory to edit the copy in")],
) -> None:
    """Copy a lesson's solution to DEST, to edit into a planted bug or an alternative."""
    import shutil

    from .layout import checkout_root
    from .patches import IGNORED

    package = find_lesson(lesson).package
    shutil.copytree(checkout_root() / "solutions" / package, dest / package, ignore=IGNORED)
    console.print(f"edit {dest / package}, then: course strength diff {dest}")


@strength_app.command("diff")
def strength_diff(
    draft: Annotated[Path, typer.Argument(help="a directory made by `course strength draft`")],
) -> None:
    """Print the patch from the solution to an edited draft; add its header and save it in tests/strength/."""
    from .layout import checkout_root
    from .patches import diff_trees

    for package in sorted(path for path in draft.iterdir() if path.is_dir()):
        original = checkout_root() / "solutions" / package.name
        typer.echo(diff_trees(original, package, prefix=f"{package.name}/"), nl=False)


@app.command()
def test() -> None:
    """Run everything CI runs (what `make test` calls)."""
    from .pipeline import run_pipeline

    raise typer.Exit(run_pipeline())
