"""Check strength's own machinery: patches apply strictly, and a planted bug that survives is reported."""

from pathlib import Path

import pytest

from course import strength
from course.layout import find_lesson
from course.patches import PatchError, apply, diff_trees, parse
from course.strength import Variant, details, measure_lesson, problems, read_variant, summary

PATCH = (
    "Planted bug: the user comes back twice as old\n"
    "Exercise: 1.1\n\n"
    "--- a/pkg/users.py\n+++ b/pkg/users.py\n@@ -1,3 +1,3 @@\n"
    " def age(user):\n-    return user.age\n+    return user.age * 2\n \n"
)


def test_a_patch_applies_where_its_lines_are_and_nowhere_else(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "users.py").write_text("def age(user):\n    return user.age\n\n")
    assert apply(PATCH, tmp_path) == ["pkg/users.py"]
    assert "user.age * 2" in (tmp_path / "pkg" / "users.py").read_text()
    with pytest.raises(PatchError, match="is not found"):
        apply(PATCH, tmp_path)  # the old lines are gone now: refresh the patch, never guess
    with pytest.raises(PatchError, match="under solutions"):
        parse("--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-x\n+y\n")
    with pytest.raises(PatchError, match="no file diff"):
        parse("Planted bug: nothing here\n")


def test_a_diff_of_two_trees_applies_back_onto_the_first(tmp_path: Path) -> None:
    original, edited = tmp_path / "a", tmp_path / "b"
    for root in (original, edited):
        root.mkdir()
        (root / "kept.py").write_text("x = 1\n")
    (original / "gone.py").write_text("old\n")
    (edited / "new.py").write_text("new\n")
    (edited / "kept.py").write_text("x = 2\n")
    text = diff_trees(original, edited)
    apply(text, original)
    assert sorted(p.name for p in original.iterdir()) == ["kept.py", "new.py"]
    assert (original / "kept.py").read_text() == "x = 2\n"


def test_a_variant_says_what_it_is_and_which_exercise_it_must_lose(tmp_path: Path) -> None:
    lesson = find_lesson("1")
    (tmp_path / "bug.patch").write_text(PATCH)
    variant = read_variant(lesson, tmp_path / "bug.patch")
    assert (variant.kind, variant.exercise, variant.description) == ("bug", "1.1", "the user comes back twice as old")
    (tmp_path / "no-kind.patch").write_text(PATCH.replace("Planted bug", "Something"))
    with pytest.raises(PatchError, match="Planted bug"):
        read_variant(lesson, tmp_path / "no-kind.patch")
    (tmp_path / "no-exercise.patch").write_text(PATCH.replace("Exercise: 1.1\n", ""))
    with pytest.raises(PatchError, match="names the exercise"):
        read_variant(lesson, tmp_path / "no-exercise.patch")


@pytest.mark.embedded_only
@pytest.mark.timeout(300)
def test_a_planted_bug_that_keeps_its_points_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """A "bug" that changes nothing survives: strength must say so, and name the exercise."""
    lesson = find_lesson("1")
    harmless = (
        "Planted bug: only a comment changes\nExercise: 1.1\n\n--- a/lesson01_endpoints/users.py\n"
        "+++ b/lesson01_endpoints/users.py\n@@ -1,1 +1,1 @@\n"
        '-"""Routes for users: a query parameter, a header, and a path parameter."""\n'
        '+"""Routes for users (a harmless change)."""\n'
    )
    real = next(v for v in strength.variants_of(lesson) if v.kind == "bug" and v.exercise == "1.1")
    planted = [Variant(lesson, "harmless", "bug", "only a comment changes", "1.1", harmless), real]
    monkeypatch.setattr(strength, "variants_of", lambda _: planted)
    result = measure_lesson(lesson, jobs=2)
    found = problems(result)
    assert any("harmless" in line and "keeps full points on 1.1" in line for line in found), found
    assert not any(real.name in line for line in found), found
    assert result.killed == 1 and "1/2 planted bugs" in summary([result])
    assert any(line.startswith("BAD bug harmless") for line in details(result))
    # A planted bug is graded on its own exercise only, both ways; the solution on the whole lesson.
    own = {check.name for exercise in lesson.exercises if exercise.id == "1.1" for check in exercise.checks}
    graded = {r.variant.name: r for r in result.results}
    assert set(graded[real.name].checked) == set(graded[real.name].graded) == own
    assert set(graded["solution"].graded) > own
