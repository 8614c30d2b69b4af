"""``hidden-checks.json``: what a learner's checkout may know about the grader's hidden checks.

An instructor who grades with ``course grade --hidden DIR`` runs ``course hidden describe DIR``
and commits the file it writes to the learners' repository. Per lesson and exercise it holds how
many hidden checks there are and what they are worth: no names, no requirements, no source, so
it gives nothing away. ``course check`` and the notebooks' ``check()`` read it to say plainly
that a local result is not the grade.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .layout import EXERCISE_ID, Lesson, checkout_root, exercises_of, lesson_of_module, lessons
from .safe_fs import read_bounded

HIDDEN_CHECKS_FILE = "hidden-checks.json"
FORMAT = 1
# The file holds a few numbers per exercise; anything larger is not one of ours.
FILE_LIMIT = 1 << 20
ABOUT = (
    "Written by `course hidden describe`. The grader also runs hidden checks: this file says how many "
    "and their points, per exercise, so that `course check` does not present a local result as the grade."
)


class HiddenChecksError(ValueError):
    """Hidden checks that cannot be described, or a hidden-checks.json that cannot be read."""


@dataclass(frozen=True)
class HiddenCount:
    checks: int
    points: int


Described = dict[str, dict[str, HiddenCount]]  # lesson package → exercise id → count


def default_path() -> Path:
    """Where ``course check`` looks: the root of the checkout the machinery belongs to."""
    return checkout_root() / HIDDEN_CHECKS_FILE


def hidden_modules(directory: Path) -> list[Path]:
    """The check modules of a hidden-checks directory, found as ``course grade --hidden`` finds them."""
    return sorted(directory.glob("test_lesson*.py"))


def describe(directory: Path) -> Described:
    """Count the hidden checks of ``directory`` (laid out as ``tests/exercises``) and their points."""
    if not directory.is_dir():
        raise HiddenChecksError(f"{directory} is not a directory of hidden checks")
    modules = hidden_modules(directory)
    if not modules:
        raise HiddenChecksError(f"{directory} holds no check modules named test_lessonNN_slug.py")
    known = {lesson.package: lesson for lesson in lessons()}
    described: Described = {}
    for path in modules:
        lesson = lesson_of_module(path.name)
        if lesson is None or lesson.package not in known:
            raise HiddenChecksError(f"{path.name} names no lesson of this course, so the grader would never run it")
        counts = _count(path, known[lesson.package])
        if counts:
            described[lesson.package] = counts
    if not described:
        raise HiddenChecksError(f"{directory} holds no checks marked @pytest.mark.exercise(...)")
    return described


def _count(path: Path, lesson: Lesson) -> dict[str, HiddenCount]:
    try:
        exercises = exercises_of(path, lesson)
    except (SyntaxError, ValueError) as exc:
        raise HiddenChecksError(f"{path.name} cannot be read as a check module: {exc}") from None
    public = {exercise.id for exercise in lesson.exercises}
    for exercise in exercises:
        if exercise.id not in public:
            raise HiddenChecksError(
                f"{path.name} has checks for exercise {exercise.id}, which {lesson.package} does not have, "
                "so the grader would never run them"
            )
    return {exercise.id: HiddenCount(len(exercise.checks), exercise.points) for exercise in exercises}


def dumps(described: Described) -> str:
    payload = {
        "format": FORMAT,
        "about": ABOUT,
        "lessons": {
            package: {exercise: {"checks": count.checks, "points": count.points} for exercise, count in found.items()}
            for package, found in sorted(described.items())
        },
    }
    return json.dumps(payload, indent=2) + "\n"


def load(path: Path | None = None) -> dict[str, HiddenCount]:
    """Exercise id → its hidden checks; empty when there is no file. HiddenChecksError when it is malformed."""
    path = path or default_path()
    try:
        payload = json.loads(read_bounded(path, FILE_LIMIT))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise HiddenChecksError(f"{path.name} cannot be read: {exc}") from None
    try:
        return _parse(payload)
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise HiddenChecksError(f"{path.name} is not as `course hidden describe` writes it: {exc}") from None


def _parse(payload: Any) -> dict[str, HiddenCount]:
    if payload.get("format") != FORMAT:
        raise ValueError(f"format {payload.get('format')!r}, expected {FORMAT}")
    counts: dict[str, HiddenCount] = {}
    for package, found in payload["lessons"].items():
        lesson = Lesson.from_package(package)
        if lesson is None:
            raise ValueError(f"{package!r} is not a lesson")
        for exercise, count in found.items():
            match = EXERCISE_ID.match(exercise)
            if match is None or int(match["lesson"]) != lesson.number:
                raise ValueError(f"{exercise!r} is not an exercise of {package}")
            checks, points = count["checks"], count["points"]
            if not all(type(number) is int and number >= 0 for number in (checks, points)):
                raise ValueError(f"exercise {exercise}: checks and points must be whole numbers")
            counts[exercise] = HiddenCount(checks, points)
    return counts
