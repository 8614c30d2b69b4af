"""Lesson and exercise discovery, read from files without importing lesson code."""

import pytest

from course.layout import checkout_root, find_exercise, find_lesson, lessons
from course.sync import exercise_tasks


def test_every_lesson_has_its_four_parts_named_alike() -> None:
    root = checkout_root()
    assert lessons(), "no lessons found in solutions/"
    for lesson in lessons():
        assert (root / "labs" / lesson.package / "app.py").is_file()
        assert (root / lesson.notebook).is_file(), f"{lesson.notebook} is missing"
        assert (root / lesson.check_module).is_file(), f"{lesson.check_module} is missing"
        assert lesson.title != lesson.slug, f"{lesson.notebook} needs a '# ' title"


def test_every_lesson_has_at_least_three_exercises_each_with_a_task() -> None:
    tasks = exercise_tasks()
    for lesson in lessons():
        ids = [exercise.id for exercise in lesson.exercises]
        assert len(ids) >= 3, f"lesson {lesson.number:02d} has exercises {ids}"
        for exercise in lesson.exercises:
            assert exercise.id.startswith(f"{lesson.number}.")
            assert exercise.id in tasks, f"exercise {exercise.id} has no solution marker"
            assert all(check.requirement.endswith(".") for check in exercise.checks), (
                f"exercise {exercise.id}: every check needs a docstring that states the requirement"
            )


def test_lessons_are_found_by_number_package_or_slug() -> None:
    first = lessons()[0]
    assert find_lesson(str(first.number)) == find_lesson(first.package) == find_lesson(first.slug) == first


@pytest.mark.parametrize(
    ("selector", "message"), [("99", "no lesson '99'"), ("1.99", "has no exercise 1.99"), ("x.1", "not an exercise id")]
)
def test_unknown_selectors_say_what_exists(selector: str, message: str) -> None:
    with pytest.raises(LookupError, match=message):
        find_exercise(selector) if "." in selector else find_lesson(selector)
