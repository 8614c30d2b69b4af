"""course sync: starter code from solution markers, and the guard for learners' edits."""

import json
from pathlib import Path

import pytest

from course.sync import MANIFEST, MarkerError, exercise_tasks, starter_source, sync

SOLVED = """\
def area(width, height):
    # BEGIN SOLUTION 9.1: Return the area of the rectangle
    return width * height
    # END SOLUTION


class Order:
    # BEGIN SOLUTION 9.2: Quantities are positive integers
    quantity: int = Field(gt=0)
    # STUB
    # quantity: str
    #
    # END SOLUTION
"""


def test_a_block_becomes_a_raise_at_the_marker_indentation() -> None:
    starter = starter_source(SOLVED)
    assert "    # Exercise 9.1: Return the area of the rectangle\n" in starter
    assert "    raise NotImplementedError('Exercise 9.1: Return the area of the rectangle')\n" in starter
    assert "width * height" not in starter


def test_a_stub_replaces_the_block_uncommented() -> None:
    starter = starter_source(SOLVED)
    assert "    # Exercise 9.2: Quantities are positive integers\n    quantity: str\n\n" in starter
    assert "Field(gt=0)" not in starter
    compile(starter.replace("Field(gt=0)", "0"), "<starter>", "exec")


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("# BEGIN SOLUTION 1.1: task\nx = 1\n", "not closed"),
        ("x = 1\n# END SOLUTION\n", "outside a solution block"),
        ("# BEGIN SOLUTION 1.1: a\n# BEGIN SOLUTION 1.2: b\n# END SOLUTION\n", "not closed"),
        ("# BEGIN SOLUTION 1.1: a\nx = 1\n# STUB\nx = 2\n# END SOLUTION\n", "stub lines must be comments"),
    ],
)
def test_broken_markers_are_reported_with_their_line(source: str, problem: str) -> None:
    with pytest.raises(MarkerError, match=problem):
        starter_source(source, "lab.py")


def _course(tmp_path: Path) -> Path:
    (tmp_path / "solutions" / "lesson09_demo").mkdir(parents=True)
    (tmp_path / "solutions" / "lesson09_demo" / "shapes.py").write_text(SOLVED)
    (tmp_path / "solutions" / "lesson09_demo" / "notes.txt").write_text("kept as is\n")
    return tmp_path


def test_sync_writes_labs_then_reports_them_in_step(tmp_path: Path) -> None:
    root = _course(tmp_path)
    assert not sync(check=True, root=root).in_step
    written = sync(root=root)
    assert set(written.changed) == {"lesson09_demo/shapes.py", "lesson09_demo/notes.txt", MANIFEST}
    assert sync(check=True, root=root).in_step
    assert (root / "labs" / "lesson09_demo" / "notes.txt").read_text() == "kept as is\n"
    manifest = json.loads((root / "labs" / MANIFEST).read_text())
    assert set(manifest) == {"lesson09_demo/shapes.py", "lesson09_demo/notes.txt"}


def test_sync_refuses_to_overwrite_a_learners_edit_unless_forced(tmp_path: Path) -> None:
    root = _course(tmp_path)
    sync(root=root)
    lab_file = root / "labs" / "lesson09_demo" / "shapes.py"
    lab_file.write_text("# my answer\n")
    (root / "labs" / "lesson09_demo" / "mine.py").write_text("# my helper\n")
    refused = sync(root=root)
    assert set(refused.refused) == {"lesson09_demo/shapes.py", "lesson09_demo/mine.py"}
    assert lab_file.read_text() == "# my answer\n", "a refused sync must not write anything"
    sync(root=root, force=True)
    assert "raise NotImplementedError" in lab_file.read_text()
    assert not (root / "labs" / "lesson09_demo" / "mine.py").exists()


def test_the_checkout_is_in_step_and_every_exercise_has_a_task() -> None:
    assert sync(check=True).in_step, "run `course sync`"
    tasks = exercise_tasks()
    assert tasks and all(task for task in tasks.values())
