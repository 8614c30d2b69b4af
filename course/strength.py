"""Check strength: planted bugs must lose points, correct alternatives must not, both ways alike.

Every lesson keeps variants of its solution as small patches in
``tests/strength/lessonNN_slug/NAME.patch``, each a unified diff against ``solutions/``
under a short header::

    Planted bug: answers 200 and null for a user that does not exist
    Exercise: 1.1

    --- a/lesson01_endpoints/users.py
    +++ b/lesson01_endpoints/users.py
    @@ ...

A planted bug is one plausible learner mistake and names the exercise it must lose
points on; its first line says in plain words what the wrong app does. A
``Correct alternative:`` header marks an implementation that differs from the
solution the way learners' work differs, and must score full points.

``measure`` grades every variant, with the solutions and the starter, twice: as
``course check`` does (a fresh pytest process, the app in-process) and as
``course grade`` does (sandboxed, over a socket), and compares the verdicts check by
check. A planted bug is graded on the exercise it names only: that is where it must
lose points, and it keeps the run to a quarter of the checks. The same variants serve
the testing lesson, where a learner's tests must catch the planted bugs.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, cast

from .check_forks import CheckForks
from .config import FAR_TIME_ZONE, STRENGTH_JOBS
from .layout import Lesson, checkout_root, find_lesson, lessons
from .patches import IGNORED, PatchError, apply

STRENGTH_DIR = "tests/strength"
BUGS_PER_EXERCISE = 2
GRADE_WORKERS = 4  # check workers of the grading batch

Kind = Literal["bug", "alternative", "solution", "starter"]
HEADERS = {"planted bug": "bug", "correct alternative": "alternative"}


@dataclass(frozen=True)
class Variant:
    """A solution with one change: a planted bug, a correct alternative, or a reference implementation."""

    lesson: Lesson
    name: str
    kind: Kind
    description: str
    exercise: str | None = None
    patch: str = ""

    @property
    def label(self) -> str:
        return f"{self.lesson.package}-{self.name}"

    @property
    def selector(self) -> str:
        """What to grade: a planted bug's own exercise, or the whole lesson."""
        return self.exercise if self.kind == "bug" and self.exercise else self.lesson.package


def read_variant(lesson: Lesson, path: Path) -> Variant:
    """A variant from its patch file: the header names what it is; the rest is the diff."""
    text = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith(("--- ", "diff ")):
            break
        key, _, value = line.partition(":")
        if value.strip():
            header[key.strip().lower()] = value.strip()
    kinds = [HEADERS[key] for key in header if key in HEADERS]
    if len(kinds) != 1:
        raise PatchError(f"{path}: start with 'Planted bug: <what the app does wrong>' or 'Correct alternative: <how>'")
    kind = kinds[0]
    description = next(header[key] for key in header if key in HEADERS)
    exercise = header.get("exercise")
    if kind == "bug" and not exercise:
        raise PatchError(f"{path}: a planted bug names the exercise it must lose points on ('Exercise: 1.2')")
    if exercise and exercise not in {e.id for e in lesson.exercises}:
        raise PatchError(f"{path}: lesson {lesson.number:02d} has no exercise {exercise}")
    return Variant(lesson, path.stem, cast(Kind, kind), description, exercise, text)


def variants_of(lesson: Lesson) -> tuple[Variant, ...]:
    folder = checkout_root() / STRENGTH_DIR / lesson.package
    return tuple(read_variant(lesson, path) for path in sorted(folder.glob("*.patch")))


def build(variant: Variant, dest: Path) -> Path:
    """``dest/labs`` holding the variant's lesson package (and only it): the implementation to grade."""
    labs = dest / "labs"
    labs.mkdir(parents=True)
    (labs / "__init__.py").touch()
    package = variant.lesson.package
    if variant.kind == "starter":
        shutil.copytree(checkout_root() / "labs" / package, labs / package, ignore=IGNORED)
        return labs
    shutil.copytree(checkout_root() / "solutions" / package, labs / package, ignore=IGNORED)
    if variant.patch:
        changed = apply(variant.patch, labs)
        strays = [path for path in changed if not path.startswith(f"{package}/")]
        if strays:
            raise PatchError(f"{variant.label}: a variant changes only its own lesson, not {strays}")
    return labs


Verdicts = dict[str, bool]  # check name → passed


@dataclass
class VariantResult:
    variant: Variant
    checked: Verdicts = field(default_factory=dict)  # as `course check` judged
    graded: Verdicts = field(default_factory=dict)  # as `course grade` judged
    messages: dict[str, str] = field(default_factory=dict)  # check name → why it failed (course check)
    error: str = ""  # the variant could not be built

    @property
    def agree(self) -> bool:
        return not self.error and self.checked == self.graded

    @property
    def disagreements(self) -> list[str]:
        return sorted(
            name for name in self.checked.keys() | self.graded.keys() if self.checked.get(name) != self.graded.get(name)
        )

    def full_marks(self, exercise: str | None = None) -> bool:
        """Whether every check (of ``exercise``) passed, both ways."""
        names = {c.name for e in self.variant.lesson.exercises if exercise in (None, e.id) for c in e.checks}
        return bool(names) and all(self.checked.get(n) and self.graded.get(n) for n in names)

    @property
    def ok(self) -> bool:
        """What the variant's kind demands, and the same verdicts both ways."""
        if not self.agree:
            return False
        if self.variant.kind in ("alternative", "solution"):
            return self.full_marks()
        if self.variant.kind == "bug":
            return not self.full_marks(self.variant.exercise)
        return not any(self.checked.values())  # the starter passes nothing


@dataclass
class LessonStrength:
    lesson: Lesson
    results: list[VariantResult]
    partial: bool = False  # only some variants were graded: the lesson's gaps are not judged

    def of(self, kind: Kind) -> list[VariantResult]:
        return [result for result in self.results if result.variant.kind == kind]

    @property
    def killed(self) -> int:
        return sum(result.ok for result in self.of("bug"))

    @property
    def kill_rate(self) -> float:
        bugs = self.of("bug")
        return self.killed / len(bugs) if bugs else 0.0

    @cached_property
    def missing(self) -> list[str]:
        """What the lesson still lacks: bugs per exercise, an alternative."""
        gaps: list[str] = []
        if self.partial:
            return gaps
        for exercise in self.lesson.exercises:
            planted = sum(result.variant.exercise == exercise.id for result in self.of("bug"))
            if planted < BUGS_PER_EXERCISE:
                gaps.append(f"exercise {exercise.id} has {planted} planted bug(s), needs {BUGS_PER_EXERCISE}")
        if not self.of("alternative"):
            gaps.append("no correct alternative")
        return gaps

    @property
    def ok(self) -> bool:
        return not self.missing and all(result.ok for result in self.results)


def _reference_variants(lesson: Lesson) -> list[Variant]:
    return [
        Variant(lesson, "solution", "solution", "the reference solution"),
        Variant(lesson, "starter", "starter", "the starter code"),
    ]


def _self_check(
    labs: Path, selector: str, timeout: float | None, tz: str, forks: CheckForks
) -> tuple[Verdicts, dict[str, str]]:
    from .checks import run_checks

    run = run_checks([selector], impl=labs, timeout=timeout, env={"TZ": tz}, forks=forks)
    return {r.name: r.passed for r in run.results}, {r.name: r.message for r in run.results if not r.passed}


def _grade(builds: Sequence[tuple[_LessonRun, str]], timeout: float | None) -> dict[str, Verdicts]:
    """``course grade`` of the builds in one batch, in this order, each on what its selector names:
    its lesson, or one exercise of it. One batch starts one sandbox server and one set of check
    workers; a batch per lesson started them sixteen times, at about three CPU-seconds each."""
    from .grading.batch import GradeOptions, grade_all

    only = {label: run.exercises_of(label) for run, label in builds}
    lessons = list(dict.fromkeys(run.lesson.package for run, _ in builds))
    options = GradeOptions(lessons=lessons, only_exercises=only, jobs=GRADE_WORKERS)
    if timeout:
        options.check_timeout = timeout
    graded: dict[str, Verdicts] = {label: {} for label in only}
    for outcome in grade_all([run.builds[label].parent for run, label in builds], options).outcomes:
        graded.setdefault(outcome.learner, {})[outcome.check] = outcome.status == "passed"
    return graded


@dataclass
class _LessonRun:
    """One lesson's variants, built, and what is known of them so far."""

    lesson: Lesson
    results: dict[str, VariantResult]
    builds: dict[str, Path]
    partial: bool

    def exercises_of(self, label: str) -> list[str]:
        """The exercises a build is graded on: a planted bug's own, or all of the lesson's."""
        selector = self.results[label].variant.selector
        return [e.id for e in self.lesson.exercises if selector in (e.id, self.lesson.package)]

    def strength(self) -> LessonStrength:
        return LessonStrength(self.lesson, list(self.results.values()), partial=self.partial)


def _build_lesson(lesson: Lesson, only: Iterable[str], scratch: Path) -> _LessonRun:
    wanted = set(only)
    chosen = [v for v in [*_reference_variants(lesson), *variants_of(lesson)] if not wanted or v.name in wanted]
    run = _LessonRun(lesson, {variant.label: VariantResult(variant) for variant in chosen}, {}, bool(wanted))
    for variant in chosen:
        try:
            run.builds[variant.label] = build(variant, scratch / variant.label)
        except PatchError as exc:
            run.results[variant.label].error = str(exc)
    return run


def measure_lessons(
    chosen: Sequence[Lesson],
    *,
    only: Iterable[str] = (),
    jobs: int = STRENGTH_JOBS,
    timeout: float | None = None,
    tz: str = FAR_TIME_ZONE,
    progress: Callable[[str], None] = lambda line: None,
) -> list[LessonStrength]:
    """Grade the lessons' variants (and their solutions and starters) both ways, in the time zone ``tz``.

    The grading batch (every build of every lesson, on ``GRADE_WORKERS`` check workers) and
    every self-check share one pool of ``jobs`` threads, the batch first since it takes longest.
    Much of their time is spent waiting (on workers starting, on sleeps the checks need), so
    there are more of them than the machine has cores.
    """
    from .harness import environment

    with (
        tempfile.TemporaryDirectory(prefix="course-strength-") as scratch,
        environment({"TZ": tz}),  # the sandbox server and the check workers take the zone from here
        CheckForks() as forks,  # each self-check is a fresh pytest process, as `course check` starts
        ThreadPoolExecutor(max_workers=max(1, jobs)) as pool,
    ):
        runs = [_build_lesson(lesson, only, Path(scratch)) for lesson in chosen]

        def grade(builds: list[tuple[_LessonRun, str]]) -> None:
            graded = _grade(builds, timeout)
            for run, label in builds:
                run.results[label].graded = graded[label]
            progress(f"graded {len(builds)} implementation(s)")

        def self_check(run: _LessonRun, label: str) -> None:
            result = run.results[label]
            result.checked, result.messages = _self_check(
                run.builds[label], result.variant.selector, timeout, tz, forks
            )
            progress(f"checked {label}")

        # Lesson by lesson in turn, one variant each: the lessons whose checks mostly wait (on workers,
        # on sleeps) spread over the whole run, instead of leaving the last minute to one of them alone.
        turns = sorted(
            ((turn, run, label) for run in runs for turn, label in enumerate(run.builds)), key=lambda t: t[0]
        )
        builds = [(run, label) for _, run, label in turns]
        futures = [pool.submit(grade, builds)] if builds else []
        futures += [pool.submit(self_check, run, label) for run, label in builds]
        for future in futures:
            future.result()
    return [run.strength() for run in runs]


def measure_lesson(lesson: Lesson, **options: Any) -> LessonStrength:
    return measure_lessons([lesson], **options)[0]


def measure(selectors: Sequence[str] = (), **options: Any) -> list[LessonStrength]:
    chosen = [find_lesson(selector) for selector in selectors] if selectors else list(lessons())
    return measure_lessons(chosen, **options)


def first_line(text: str, limit: int = 160) -> str:
    return text.splitlines()[0][:limit] if text.strip() else ""


def details(strength: LessonStrength) -> list[str]:
    """One line per variant: its verdict, and the checks it failed, with why (as `course check` said)."""
    lines = []
    for result in strength.results:
        variant = result.variant
        failed = sorted(name for name, passed in result.checked.items() if not passed)
        target = f" on {variant.exercise}" if variant.exercise else ""
        lines.append(f"{'ok ' if result.ok else 'BAD'} {variant.kind} {variant.name}{target}: {variant.description}")
        lines += [f"      fails {name}: {first_line(result.messages.get(name, ''))}" for name in failed]
    return lines


def problems(strength: LessonStrength) -> list[str]:
    """Each thing that makes a lesson's strength fail, in words."""
    found = [f"{strength.lesson.package}: {gap}" for gap in strength.missing]
    for result in strength.results:
        variant = result.variant
        where = f"{variant.lesson.package}/{variant.name}"
        if result.error:
            found.append(f"{where}: {result.error}")
            continue
        if not result.agree:
            found.append(f"{where}: course check and course grade disagree on {', '.join(result.disagreements)}")
        if result.ok:
            continue
        failed = sorted(name for name, passed in result.checked.items() if not passed)
        if variant.kind == "bug" and result.agree:
            found.append(f"{where}: the planted bug keeps full points on {variant.exercise} ({variant.description})")
        elif variant.kind in ("alternative", "solution") and result.agree:
            detail = "; ".join(f"{name}: {result.messages.get(name, '')[:400]}" for name in failed)
            found.append(f"{where}: a correct implementation lost points: {detail}")
        elif variant.kind == "starter" and result.agree:
            found.append(f"{where}: the starter passes {sorted(n for n, p in result.checked.items() if p)}")
    return found


def summary(results: Sequence[LessonStrength]) -> str:
    """One line for all lessons: kill rate, alternatives at full marks, and verdicts that agree."""
    bugs = [result for lesson in results for result in lesson.of("bug")]
    alternatives = [result for lesson in results for result in lesson.of("alternative")]
    variants = [result for lesson in results for result in lesson.results]
    killed = sum(result.ok for result in bugs)
    rate = 100 * killed / len(bugs) if bugs else 0.0
    return (
        f"kill rate {rate:.0f} % ({killed}/{len(bugs)} planted bugs), "
        f"{sum(result.ok for result in alternatives)}/{len(alternatives)} alternatives full, "
        f"check = grade for {sum(result.agree for result in variants)}/{len(variants)} implementations"
    )


def render(results: Sequence[LessonStrength], console: Any) -> None:
    """The strength table: per lesson, planted bugs, kill rate, alternatives, and agreeing verdicts."""
    from rich.table import Table

    table = Table(title="check strength")
    for column in ("lesson", "exercises", "planted bugs", "killed", "kill rate", "alternatives", "same verdicts"):
        table.add_column(column, justify="left" if column == "lesson" else "right")
    for lesson in results:
        alternatives = lesson.of("alternative")
        table.add_row(
            lesson.lesson.package,
            str(len(lesson.lesson.exercises)),
            str(len(lesson.of("bug"))),
            str(lesson.killed),
            f"{100 * lesson.kill_rate:.0f} %",
            f"{sum(result.ok for result in alternatives)}/{len(alternatives)} full",
            f"{sum(result.agree for result in lesson.results)}/{len(lesson.results)}",
        )
    console.print(table)
