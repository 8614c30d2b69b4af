"""LMS exports: lessons.csv, Canvas's gradebook import and Moodle's, the learner map, and formula escaping."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from course.cli import app
from course.grading.exports import (
    CANVAS_IDENTITY,
    POINTS_POSSIBLE,
    LmsIdentity,
    LmsMapError,
    lesson_titles,
    read_canvas_assignments,
    read_lms_map,
    write_exports,
)
from course.grading.reports import CheckOutcome

L1, L2 = "lesson01_endpoints", "lesson02_validation"
FORMULA = '=HYPERLINK("http://evil","x")'  # a learner name a spreadsheet would run
# (lesson, exercise, check, points)
CATALOGUE = [(L1, "1.1", "test_a", 2), (L1, "1.2", "test_b", 1), (L2, "2.1", "test_c", 3), (L2, "2.1", "test_d", 4)]
STATUSES = {
    "ada": ["passed", "passed", "passed", "passed"],
    "bob": ["passed", "failed", "error", "passed"],
    FORMULA: ["failed", "timeout", "failed", "failed"],
}
TITLES = {L1: "Lesson 01: Endpoints", L2: "@Lesson 02: Validation"}  # the second must be escaped too
MAP = (
    "learner,name,id,sis_user_id,sis_login_id,section\n"
    "ada,Ada Lovelace,101,S-1,ada@uni.edu,-Tuesday\n"
    "bob,,102,,,\n"
    "carl,Carl Gauss,103,,,\n"  # nobody graded is called carl
)


def _outcomes() -> list[CheckOutcome]:
    return [
        CheckOutcome(learner, lesson, exercise, check, "Requirement.", points, status)
        for learner, statuses in STATUSES.items()
        for (lesson, exercise, check, points), status in zip(CATALOGUE, statuses, strict=True)
    ][::-1]


def _earned(learner: str, lesson: str) -> int:
    statuses = STATUSES[learner]
    return sum(
        points
        for (at, _, _, points), status in zip(CATALOGUE, statuses, strict=True)
        if at == lesson and status == "passed"
    )


def _possible(lesson: str) -> int:
    return sum(points for at, _, _, points in CATALOGUE if at == lesson)


def _safe(text: str) -> str:
    return f"'{text}" if text.startswith(("=", "+", "-", "@")) else text


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


@pytest.fixture
def lms_map(tmp_path: Path) -> Path:
    path = tmp_path / "map.csv"
    path.write_text(MAP, encoding="utf-8")
    return path


def test_lessons_csv_has_points_per_lesson_total_and_max(tmp_path: Path) -> None:
    assert write_exports(_outcomes(), tmp_path / "out") == []  # no map, no warnings
    learners = sorted(STATUSES)
    expected = [["learner", L1, L2, "total", "max"]] + [
        [
            _safe(name),
            str(_earned(name, L1)),
            str(_earned(name, L2)),
            str(_earned(name, L1) + _earned(name, L2)),
            str(_possible(L1) + _possible(L2)),
        ]
        for name in learners
    ]
    assert _rows(tmp_path / "out" / "lessons.csv") == expected
    assert not (tmp_path / "out" / "canvas.csv").exists()  # without a map nothing identifies a learner in an LMS


def test_canvas_csv_has_identities_points_possible_and_assignment_ids(tmp_path: Path, lms_map: Path) -> None:
    identities = read_lms_map(lms_map)
    warnings = write_exports(
        _outcomes(), tmp_path / "out", identities=identities, titles=TITLES, assignment_ids={L1: "9001"}
    )
    rows = _rows(tmp_path / "out" / "canvas.csv")
    assert rows[0] == [*CANVAS_IDENTITY, f"{TITLES[L1]} (9001)", _safe(TITLES[L2])]
    assert rows[1] == [POINTS_POSSIBLE, "", "", "", "", str(_possible(L1)), str(_possible(L2))]
    expected = {}
    for learner in STATUSES:
        who = identities.get(learner, LmsIdentity(learner))
        identity = [who.name or learner, who.id, who.sis_user_id, who.sis_login_id, who.section]
        expected[learner] = [*map(_safe, identity), str(_earned(learner, L1)), str(_earned(learner, L2))]
    assert rows[2:] == [expected[learner] for learner in sorted(STATUSES)]
    assert expected["ada"][:5] == ["Ada Lovelace", "101", "S-1", "ada@uni.edu", "'-Tuesday"]  # the map's effect
    assert expected[FORMULA][:2] == [f"'{FORMULA}", ""]  # unmapped: exported, with an empty ID
    assert warnings == [
        f"{FORMULA} is not in the LMS map: exported with an empty ID",
        "carl is in the LMS map but was not graded",
    ]


def test_moodle_csv_names_learners_by_login(tmp_path: Path, lms_map: Path) -> None:
    write_exports(_outcomes(), tmp_path / "out", identities=read_lms_map(lms_map), titles=TITLES)
    login = {"ada": "ada@uni.edu", "bob": "bob", FORMULA: _safe(FORMULA)}  # no login: the learner's name
    assert _rows(tmp_path / "out" / "moodle.csv") == [
        ["username", TITLES[L1], _safe(TITLES[L2])],
        *([login[name], str(_earned(name, L1)), str(_earned(name, L2))] for name in sorted(STATUSES)),
    ]


def test_no_cell_of_any_export_starts_a_formula(tmp_path: Path, lms_map: Path) -> None:
    write_exports(_outcomes(), tmp_path / "out", identities=read_lms_map(lms_map), titles=TITLES)
    cells = [
        cell
        for name in ("lessons", "canvas", "moodle")
        for row in _rows(tmp_path / "out" / f"{name}.csv")
        for cell in row
    ]
    assert f"'{FORMULA}" in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("learner,name\nada,Ada\n", "lacks the column(s) id"),
        ("name,id\nAda,1\n", "lacks the column(s) learner"),
        ("learner,id\nada,1\nbob,2\nada,3\n", "line 4: learner 'ada' is listed twice"),
        ("learner,id\n,1\n", "line 2: the learner is empty"),
    ],
)
def test_a_bad_map_is_a_clear_error(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "map.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LmsMapError, match=error.replace("(", r"\(").replace(")", r"\)")):
        read_lms_map(path)


def test_a_map_with_only_the_required_columns_and_a_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("\ufefflearner , id\nada,101\n", encoding="utf-8")  # as Excel saves it
    assert read_lms_map(path) == {"ada": LmsIdentity("ada", id="101")}


@pytest.mark.parametrize(
    ("files", "error"),
    [
        ({"--lms-map": "learner,name\nada,Ada\n"}, "lacks the column(s) id"),
        ({"--canvas-assignments": "lesson,assignment_id\n1,9001\n"}, "--canvas-assignments needs --lms-map"),
    ],
)
def test_grade_refuses_bad_lms_files_before_grading(tmp_path: Path, files: dict[str, str], error: str) -> None:
    options = []
    for index, (option, text) in enumerate(files.items()):
        path = tmp_path / f"file{index}.csv"
        path.write_text(text, encoding="utf-8")
        options += [option, str(path)]
    result = CliRunner().invoke(
        app, ["grade", str(tmp_path / "nothing.zip"), "--out", str(tmp_path / "out"), *options], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2 and error in result.output
    assert not (tmp_path / "out").exists()  # nothing graded, nothing written


def test_lesson_titles_come_from_the_notebooks() -> None:
    titles = lesson_titles([L1, "not_a_lesson"])
    assert titles[L1].startswith("01") and titles[L1] != L1
    assert titles["not_a_lesson"] == "not_a_lesson"


def test_canvas_assignment_ids_are_read_by_lesson_number_or_name(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(f"\ufefflesson,assignment_id\n1,9001\n{L2}, 9002 \n", encoding="utf-8")
    assert read_canvas_assignments(path) == {L1: "9001", L2: "9002"}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("lesson\n1\n", "lacks the column(s) assignment_id"),
        ("lesson,assignment_id\n99,1\n", "line 2: no lesson '99'"),
        ("lesson,assignment_id\n1,=1+1\n", "line 2: a Canvas assignment id is a number"),
        ("lesson,assignment_id\n1,5\nlesson01_endpoints,6\n", f"line 3: {L1} is listed twice"),
    ],
)
def test_bad_canvas_assignment_ids_are_a_clear_error(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LmsMapError, match=error.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        read_canvas_assignments(path)
