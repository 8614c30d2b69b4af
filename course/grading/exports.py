"""Grades for a learning management system: a per-lesson CSV, a Canvas gradebook import, a Moodle import.

``course grade --out DIR`` writes ``lessons.csv`` (learner × lesson points, total and max)
next to the per-exercise ``gradebook.csv``. Given ``--lms-map map.csv`` (columns
``learner,name,id,sis_user_id,sis_login_id,section``; ``learner`` and ``id`` required), it
also writes ``canvas.csv`` for Canvas's "Import gradebook" (a second row of points possible)
and ``moodle.csv`` for Moodle's "Import grades from CSV" (identified by username). With
``--canvas-assignments ids.csv`` (columns ``lesson,assignment_id``) each lesson's column names
its Canvas assignment, so that an import updates it instead of adding a new one.

Learner names, titles and map fields end up in spreadsheets, so every text cell that a
spreadsheet would run as a formula is neutralised with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..layout import Lesson, find_lesson
from .reports import CheckOutcome, OutputDir, exercise_rows, learner_totals

MAP_COLUMNS = ("learner", "name", "id", "sis_user_id", "sis_login_id", "section")
REQUIRED_MAP_COLUMNS = ("learner", "id")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"
MAP_BYTES = 4 * 1024**2  # a map of a few thousand learners is far smaller
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class LmsMapError(ValueError):
    """A mapping file that cannot be used, and why, in one line for the instructor."""


@dataclass(frozen=True)
class LmsIdentity:
    """Who a learner is in the LMS; every field but ``learner`` may be empty."""

    learner: str
    name: str = ""
    id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


@dataclass(frozen=True)
class LessonScores:
    """Points per learner and lesson, in the order the exports show them."""

    lessons: tuple[str, ...]  # lesson packages, sorted
    points: Mapping[str, Mapping[str, int]]  # learner -> lesson -> points earned
    possible: Mapping[str, int]  # lesson -> points possible
    totals: Mapping[str, tuple[int, int]]  # learner -> (points, max), as in results.json


def spreadsheet_safe(cell: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading ``'``; anything else is left alone."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return f"'{cell}"
    return cell


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """A CSV document of ``rows``, every text cell made spreadsheet-safe."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def _read_rows(path: Path, required: Sequence[str]) -> Iterable[tuple[int, dict[str, str]]]:
    """(line number, row with stripped cells) of a small CSV file; LmsMapError if unreadable or lacking ``required``."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            text = file.read(MAP_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise LmsMapError(f"{path} could not be read ({exc})") from None
    if len(text) > MAP_BYTES:
        raise LmsMapError(f"{path} is larger than {MAP_BYTES // 1024**2} MB")
    reader = csv.DictReader(io.StringIO(text))
    header = [column.strip() for column in reader.fieldnames or ()]
    missing = [column for column in required if column not in header]
    if missing:
        raise LmsMapError(f"{path} lacks the column(s) {', '.join(missing)}; its header is {','.join(header)!r}")
    reader.fieldnames = header
    for line, row in enumerate(reader, start=2):
        yield line, {column: (value or "").strip() for column, value in row.items() if isinstance(column, str)}


def read_lms_map(path: Path) -> dict[str, LmsIdentity]:
    """learner -> identity from a mapping CSV; LmsMapError for a missing column, a duplicate or an empty learner."""
    identities: dict[str, LmsIdentity] = {}
    for line, row in _read_rows(path, REQUIRED_MAP_COLUMNS):
        values = {column: row.get(column, "") for column in MAP_COLUMNS}
        learner = values["learner"]
        if not learner:
            raise LmsMapError(f"{path}, line {line}: the learner is empty")
        if learner in identities:
            raise LmsMapError(f"{path}, line {line}: learner {learner!r} is listed twice")
        identities[learner] = LmsIdentity(**values)
    return identities


def read_canvas_assignments(path: Path) -> dict[str, str]:
    """lesson package -> Canvas assignment id, from a CSV ``lesson,assignment_id`` (lesson by number or name)."""
    assignments: dict[str, str] = {}
    for line, row in _read_rows(path, ("lesson", "assignment_id")):
        try:
            package = find_lesson(row["lesson"]).package
        except LookupError as unknown:
            raise LmsMapError(f"{path}, line {line}: {unknown}") from None
        if not row["assignment_id"].isdigit():
            raise LmsMapError(f"{path}, line {line}: a Canvas assignment id is a number, not {row['assignment_id']!r}")
        if package in assignments:
            raise LmsMapError(f"{path}, line {line}: {package} is listed twice")
        assignments[package] = row["assignment_id"]
    return assignments


def lesson_scores(outcomes: Sequence[CheckOutcome]) -> LessonScores:
    """Each learner's points per lesson, each lesson's points possible, and the totals."""
    rows = exercise_rows(outcomes)
    lessons = tuple(sorted({row.lesson for row in rows}))
    points: dict[str, dict[str, int]] = {}
    learners_possible: dict[str, dict[str, int]] = {}
    for row in rows:
        points.setdefault(row.learner, dict.fromkeys(lessons, 0))[row.lesson] += row.points
        learners_possible.setdefault(row.learner, dict.fromkeys(lessons, 0))[row.lesson] += row.max_points
    # Every learner is graded on the same checks; the largest guards against one whose lesson never ran.
    possible = {lesson: max(mine[lesson] for mine in learners_possible.values()) for lesson in lessons}
    return LessonScores(lessons, points, possible, learner_totals(rows))


def lesson_titles(lessons: Iterable[str]) -> dict[str, str]:
    """lesson package -> the title of its notebook (its slug without one); other names stay as they are."""
    titles = {}
    for package in lessons:
        lesson = Lesson.from_package(package)
        titles[package] = lesson.title if lesson else package
    return titles


def lessons_csv(scores: LessonScores) -> str:
    """One row per learner: points per lesson (columns named by package), then total and max."""
    header = ["learner", *scores.lessons, "total", "max"]
    rows = [
        [learner, *(scores.points[learner][lesson] for lesson in scores.lessons), *scores.totals[learner]]
        for learner in scores.totals
    ]
    return csv_text([header, *rows])


def canvas_csv(
    scores: LessonScores,
    identities: Mapping[str, LmsIdentity],
    titles: Mapping[str, str],
    assignment_ids: Mapping[str, str],
) -> str:
    """Canvas "Import gradebook": identity columns, one assignment per lesson, then a Points Possible row."""
    assignments = [
        f"{titles[lesson]} ({assignment_ids[lesson]})" if assignment_ids.get(lesson) else titles[lesson]
        for lesson in scores.lessons
    ]
    rows: list[Sequence[object]] = [
        [*CANVAS_IDENTITY, *assignments],
        [POINTS_POSSIBLE, "", "", "", "", *(scores.possible[lesson] for lesson in scores.lessons)],
    ]
    for learner in scores.totals:
        who = identities.get(learner, LmsIdentity(learner))
        identity = [who.name or learner, who.id, who.sis_user_id, who.sis_login_id, who.section]
        rows.append([*identity, *(scores.points[learner][lesson] for lesson in scores.lessons)])
    return csv_text(rows)


def moodle_csv(scores: LessonScores, identities: Mapping[str, LmsIdentity], titles: Mapping[str, str]) -> str:
    """Moodle "Import grades from CSV": a username (the SIS login, else the learner) and one column per lesson."""
    rows: list[Sequence[object]] = [["username", *(titles[lesson] for lesson in scores.lessons)]]
    for learner in scores.totals:
        username = identities[learner].sis_login_id if learner in identities else ""
        rows.append([username or learner, *(scores.points[learner][lesson] for lesson in scores.lessons)])
    return csv_text(rows)


def mapping_warnings(learners: Iterable[str], identities: Mapping[str, LmsIdentity]) -> list[str]:
    """Graded learners the map does not name, and map rows nobody graded matches."""
    graded = set(learners)
    return [
        *(
            f"{learner} is not in the LMS map: exported with an empty ID"
            for learner in sorted(graded - set(identities))
        ),
        *(f"{learner} is in the LMS map but was not graded" for learner in sorted(set(identities) - graded)),
    ]


def write_exports(
    outcomes: Sequence[CheckOutcome],
    out: Path,
    *,
    identities: Mapping[str, LmsIdentity] | None = None,
    titles: Mapping[str, str] | None = None,
    assignment_ids: Mapping[str, str] | None = None,
) -> list[str]:
    """Write lessons.csv, and with ``identities`` canvas.csv and moodle.csv, into ``out``; return the warnings.

    ``titles`` name each lesson's assignment (its notebook title by default); ``assignment_ids``
    are Canvas assignment ids by lesson, so that an import updates existing assignments.
    """
    scores = lesson_scores(outcomes)
    shown = {**lesson_titles(scores.lessons), **(titles or {})}
    target = OutputDir(out)
    try:
        target.write("lessons.csv", lessons_csv(scores))
        if identities is None:
            return []
        target.write("canvas.csv", canvas_csv(scores, identities, shown, assignment_ids or {}))
        target.write("moodle.csv", moodle_csv(scores, identities, shown))
    finally:
        target.close()
    return mapping_warnings(scores.totals, identities)
