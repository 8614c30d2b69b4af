"""Where things are: the course checkout, its lessons and their exercises.

Lessons are discovered from ``solutions/lessonNN_slug`` and their checks from
``tests/exercises/test_lessonNN_slug.py``, read as text (never imported), so the
catalogue costs milliseconds and runs no learner code.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .config import ROOT_ENV

LESSON_PACKAGE = re.compile(r"^lesson(?P<number>\d{2})_(?P<slug>[a-z0-9_]+)$")
EXERCISE_ID = re.compile(r"^(?P<lesson>\d+)\.(?P<index>\d+)$")
CHECK_MODULE_PREFIX = "test_"


def checkout_root() -> Path:
    """The course checkout this machinery belongs to: solutions, tests and notebooks live here."""
    return Path(__file__).resolve().parent.parent


def tree_root() -> Path:
    """The tree being run, whose ``labs/`` is the implementation under test.

    ``COURSE_ROOT`` names it when the machinery built a tree for another
    implementation; otherwise it is the checkout.
    """
    if root := os.environ.get(ROOT_ENV):
        return Path(root)
    return checkout_root()


@dataclass(frozen=True)
class Exercise:
    id: str
    lesson: Lesson
    points: int
    checks: tuple[Check, ...] = field(default=())

    @property
    def sort_key(self) -> tuple[int, int]:
        lesson, index = self.id.split(".")
        return int(lesson), int(index)


@dataclass(frozen=True)
class Check:
    name: str
    exercise: str
    points: int
    requirement: str


@dataclass(frozen=True)
class Lesson:
    number: int
    slug: str

    @property
    def package(self) -> str:
        return f"lesson{self.number:02d}_{self.slug}"

    @property
    def notebook(self) -> str:
        return f"notebooks/{self.number:02d}-{self.slug}.ipynb"

    @property
    def check_module(self) -> str:
        return f"tests/exercises/test_{self.package}.py"

    @property
    def title(self) -> str:
        return notebook_title(checkout_root() / self.notebook) or self.slug

    @property
    def exercises(self) -> tuple[Exercise, ...]:
        return exercises_of(checkout_root() / self.check_module, self)

    @classmethod
    def from_package(cls, package: str) -> Lesson | None:
        """``lesson01_endpoints`` → its Lesson; None for a name that is not a lesson package."""
        match = LESSON_PACKAGE.match(package)
        return cls(int(match["number"]), match["slug"]) if match else None


@cache
def lessons() -> tuple[Lesson, ...]:
    found = (
        Lesson.from_package(path.name) for path in sorted((checkout_root() / "solutions").iterdir()) if path.is_dir()
    )
    return tuple(lesson for lesson in found if lesson is not None)


def find_lesson(selector: str) -> Lesson:
    """A lesson by number (``1``, ``01``), package name or slug."""
    for lesson in lessons():
        if selector.isdigit() and int(selector) == lesson.number:
            return lesson
        if selector in (lesson.package, lesson.slug):
            return lesson
    known = ", ".join(lesson.package for lesson in lessons())
    raise LookupError(f"no lesson {selector!r}; the course has {known}")


def lesson_of_module(module: str) -> Lesson | None:
    """The lesson a check module is about, by its name or path; None for other modules.

    ``tests.exercises.test_lesson01_endpoints``, ``hidden_checks.test_lesson01_endpoints`` and
    ``tests/exercises/test_lesson01_endpoints.py`` all name lesson 01. This is the one parser of
    check module names: the plugin, the grader and the self-check all ask it.
    """
    stem = module.replace("\\", "/").rpartition("/")[2].removesuffix(".py").rpartition(".")[2]
    return Lesson.from_package(stem.removeprefix(CHECK_MODULE_PREFIX)) if stem.startswith(CHECK_MODULE_PREFIX) else None


def find_exercise(exercise_id: str) -> Exercise:
    if not EXERCISE_ID.match(exercise_id):
        raise LookupError(f"{exercise_id!r} is not an exercise id such as 1.2")
    lesson = find_lesson(exercise_id.split(".")[0])
    for exercise in lesson.exercises:
        if exercise.id == exercise_id:
            return exercise
    known = ", ".join(exercise.id for exercise in lesson.exercises)
    raise LookupError(f"lesson {lesson.number:02d} has no exercise {exercise_id}; it has {known}")


def notebook_title(path: Path) -> str | None:
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return None
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def _exercise_marker(decorator: ast.expr) -> tuple[str, int] | None:
    """``@pytest.mark.exercise("1.2", points=3)`` → ("1.2", 3)."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
        return None
    if decorator.func.attr != "exercise" or not decorator.args:
        return None
    exercise_id = ast.literal_eval(decorator.args[0])
    points = next((ast.literal_eval(k.value) for k in decorator.keywords if k.arg == "points"), 1)
    return str(exercise_id), int(points)


@cache
def exercises_of(path: Path, lesson: Lesson) -> tuple[Exercise, ...]:
    """The exercises of one check module, with their checks, read from its source."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except OSError:
        return ()
    checks: dict[str, list[Check]] = {}
    for node in tree.body:
        if not isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if marker := _exercise_marker(decorator):
                exercise_id, points = marker
                requirement = (ast.get_docstring(node) or node.name).strip()
                checks.setdefault(exercise_id, []).append(Check(node.name, exercise_id, points, requirement))
    exercises = [
        Exercise(exercise_id, lesson, sum(check.points for check in found), tuple(found))
        for exercise_id, found in checks.items()
    ]
    return tuple(sorted(exercises, key=lambda exercise: exercise.sort_key))
