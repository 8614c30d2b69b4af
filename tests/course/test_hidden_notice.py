"""hidden-checks.json: hidden checks are described, and a learner's check stops presenting itself as the grade."""

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from course.checks import CheckResult, CheckRun, render
from course.cli import app
from course.hidden import HiddenChecksError, HiddenCount, describe, dumps, load
from course.layout import find_exercise

pytestmark = pytest.mark.embedded_only

# Two hidden checks on 1.1 (3 points), one on 2.3 (1 point); names and docstrings a learner must never see.
HIDDEN_LESSON01 = '''
import pytest


@pytest.mark.exercise("1.1", points=2)
async def test_secret_user_7f3a9c(client):
    """GET /users/7f3a9c returns the secret user."""
    assert (await client.get("/users/7f3a9c")).status_code == 200


@pytest.mark.exercise("1.1", points=1)
async def test_secret_header_b41d(client):
    """The secret header b41d is echoed."""
    assert False


def helper_that_is_not_a_check():
    return "not counted"
'''
HIDDEN_LESSON02 = '''
import pytest


@pytest.mark.exercise("2.3")
def test_leap_second_e9d2():
    """A leap second e9d2 is kept."""
'''
SECRETS = ("7f3a9c", "b41d", "e9d2", "secret", "assert", "test_")


@pytest.fixture
def hidden_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "hidden"
    directory.mkdir()
    (directory / "test_lesson01_endpoints.py").write_text(HIDDEN_LESSON01)
    (directory / "test_lesson02_validation.py").write_text(HIDDEN_LESSON02)
    (directory / "conftest.py").write_text("# the grader ignores it, and so does describe\n")
    return directory


def _run(*exercise_ids: str, failing: tuple[str, ...] = ()) -> CheckRun:
    exercises = tuple(find_exercise(exercise_id) for exercise_id in exercise_ids)
    results = [
        CheckResult(
            check.name, exercise.id, check.points, check.requirement, "failed" if check.name in failing else "passed"
        )
        for exercise in exercises
        for check in exercise.checks
    ]
    return CheckRun(exercises, results, duration=1.25)


def _rendered(run: CheckRun, hidden_file: Path) -> list[str]:
    console = Console(record=True, width=200, color_system=None)
    render(run, console, hidden_file=hidden_file)
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_describe_writes_counts_and_points_and_nothing_else(hidden_dir: Path, tmp_path: Path) -> None:
    text = dumps(describe(hidden_dir))
    payload = json.loads(text)
    assert payload["lessons"] == {
        "lesson01_endpoints": {"1.1": {"checks": 2, "points": 3}},
        "lesson02_validation": {"2.3": {"checks": 1, "points": 1}},
    }
    assert set(payload) == {"format", "about", "lessons"}
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"the file gives away {leaked}"
    (tmp_path / "hidden-checks.json").write_text(text)
    assert load(tmp_path / "hidden-checks.json") == {"1.1": HiddenCount(2, 3), "2.3": HiddenCount(1, 1)}


def test_the_cli_writes_the_file_and_refuses_a_directory_it_cannot_describe(hidden_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "learners" / "hidden-checks.json"
    out.parent.mkdir()
    result = runner.invoke(app, ["hidden", "describe", str(hidden_dir), "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "3 hidden check(s) worth 4 point(s) in 2 exercise(s)" in result.output
    assert load(out) == {"1.1": HiddenCount(2, 3), "2.3": HiddenCount(1, 1)}
    missing = ["hidden", "describe", str(tmp_path / "nowhere"), "--out", str(out)]
    result = runner.invoke(app, missing, env={"COLUMNS": "400"})
    assert result.exit_code == 2 and "is not a directory of hidden checks" in result.output
    assert isinstance(result.exception, SystemExit), "a clear message and exit 2, not a traceback"


@pytest.mark.parametrize(
    ("name", "source", "says"),
    [
        ("test_lesson01_endpoints.py", "def broken(:\n", "cannot be read as a check module"),
        ("test_lesson01_endpoints.py", '@pytest.mark.exercise("1.9")\ndef test_x(): ...\n', "does not have"),
        ("test_lesson01_elsewhere.py", '@pytest.mark.exercise("1.1")\ndef test_x(): ...\n', "names no lesson"),
        ("test_lesson01_endpoints.py", "def test_unmarked(): ...\n", "no checks marked"),
        ("checks.py", '@pytest.mark.exercise("1.1")\ndef test_x(): ...\n', "no check modules"),
    ],
)
def test_describe_refuses_what_the_grader_would_not_run(tmp_path: Path, name: str, source: str, says: str) -> None:
    (tmp_path / name).write_text(source)
    with pytest.raises(HiddenChecksError, match=says):
        describe(tmp_path)


def test_without_the_file_the_output_is_unchanged(tmp_path: Path) -> None:
    lines = _rendered(_run("1.1"), tmp_path / "hidden-checks.json")
    assert lines[-1] == "2/2 points in 1.2 s"
    assert not [line for line in lines if "hidden" in line or "Warning" in line]


def test_one_exercise_with_hidden_checks_says_the_local_result_is_not_the_grade(
    hidden_dir: Path, tmp_path: Path
) -> None:
    file = tmp_path / "hidden-checks.json"
    file.write_text(dumps(describe(hidden_dir)))
    lines = _rendered(_run("1.1"), file)
    assert (
        "This exercise also has 2 hidden checks (3 points) that only the grader runs; "
        "your local result is not your grade." in lines
    )
    assert lines[-1] == (
        "2/2 points from the checks you can run here (the grader also runs hidden checks worth 3 more) in 1.2 s"
    )
    assert "2/2 points in" not in "\n".join(lines)


def test_a_lesson_names_each_exercise_with_hidden_checks_and_sums_their_points(
    hidden_dir: Path, tmp_path: Path
) -> None:
    file = tmp_path / "hidden-checks.json"
    file.write_text(dumps(describe(hidden_dir)))
    run = _run("1.1", "1.2", "2.3", failing=("test_currency_filter_ignores_case",))
    lines = _rendered(run, file)
    assert (
        "These exercises also have hidden checks that only the grader runs; your local result is not your grade."
        in lines
    )
    assert "  • 1.1: 2 hidden checks (3 points)" in lines and "  • 2.3: 1 hidden check (1 point)" in lines
    assert not [line for line in lines if "1.2:" in line], "1.2 has no hidden checks"
    earned, total = run.score
    assert lines[-1].startswith(f"{earned}/{total} points from the checks you can run here")
    assert "worth 4 more" in lines[-1]
    # A single exercise of a larger selection is named, not called "this exercise".
    lines = _rendered(_run("1.1", "1.2"), file)
    assert any(line.startswith("Exercise 1.1 also has 2 hidden checks (3 points)") for line in lines)


def test_exercises_without_hidden_checks_print_as_before(hidden_dir: Path, tmp_path: Path) -> None:
    file = tmp_path / "hidden-checks.json"
    file.write_text(dumps(describe(hidden_dir)))
    lines = _rendered(_run("1.2"), file)
    assert lines[-1] == "3/3 points in 1.2 s"


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"format": 99, "lessons": {}}),
        json.dumps({"format": 1, "lessons": {"lesson01_endpoints": {"1.1": {"checks": "two", "points": 3}}}}),
        json.dumps({"format": 1, "lessons": {"lesson01_endpoints": {"2.1": {"checks": 1, "points": 1}}}}),
        json.dumps({"format": 1, "lessons": {"not a lesson": {}}}),
        json.dumps([1, 2, 3]),
    ],
)
def test_a_malformed_file_is_a_clear_warning_not_a_crash(tmp_path: Path, content: str) -> None:
    file = tmp_path / "hidden-checks.json"
    file.write_text(content)
    with pytest.raises(HiddenChecksError, match=r"hidden-checks\.json"):
        load(file)
    lines = _rendered(_run("1.1"), file)
    warnings = [line for line in lines if line.startswith("Warning: hidden-checks.json")]
    assert warnings and "not shown" in warnings[0], lines
    assert lines[-1] == "2/2 points in 1.2 s"


def test_a_link_in_place_of_the_file_is_refused(hidden_dir: Path, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.json"
    real.write_text(dumps(describe(hidden_dir)))
    link = tmp_path / "hidden-checks.json"
    link.symlink_to(real)
    with pytest.raises(HiddenChecksError, match="cannot be read"):
        load(link)
