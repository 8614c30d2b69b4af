"""Graded checks: every one fails on the starter, passes on the solutions, and fails readably."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course.checks import render, run_checks, select
from course.config import ROOT_ENV
from course.layout import checkout_root, lessons
from course.tree import implementation_tree

STARTER = checkout_root() / "labs"
# The self-check's whole path on two lessons. That every check of every lesson fails on the starter and
# passes on the solutions, as course check and as course grade, is the strength stage's to prove.
SOME_LESSONS = ["1", "2"]


@pytest.mark.timeout(120)
def test_every_graded_check_fails_on_the_starter() -> None:
    run = run_checks(SOME_LESSONS, impl=STARTER)
    expected = sum(len(exercise.checks) for lesson in lessons()[:2] for exercise in lesson.exercises)
    assert len(run.results) >= expected
    passing = [f"{result.exercise} {result.name}" for result in run.results if result.passed]
    assert not passing, f"these checks pass on the starter, so they cannot tell done from not done: {passing}"
    assert run.score[0] == 0 and not run.passed


@pytest.mark.timeout(120)
def test_every_graded_check_passes_on_the_solutions() -> None:
    run = run_checks(SOME_LESSONS, impl="solutions")
    failing = {f"{result.exercise} {result.name}": result.message for result in run.results if not result.passed}
    assert not failing, failing
    assert run.passed and run.score[0] == run.score[1] > 0


def test_a_run_against_the_solutions_imports_the_solutions() -> None:
    probe = (
        "import os; from course.harness import import_lab as i;"
        " print(os.path.realpath(i('lesson01_endpoints').__file__))"
    )
    with implementation_tree("solutions") as root:
        out = subprocess.run(
            [sys.executable, "-c", probe],
            env={**os.environ, ROOT_ENV: str(root)},
            cwd="/",
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    assert out.strip() == str(checkout_root() / "solutions" / "lesson01_endpoints" / "app.py"), out


def test_labs_are_not_installed_so_nothing_can_shadow_the_tree_under_test(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in (ROOT_ENV, "PYTHONPATH")}
    found = subprocess.run(
        [sys.executable, "-c", "import importlib.util as u; print(u.find_spec('labs'), u.find_spec('solutions'))"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert found.strip() == "None None", f"labs or solutions is importable outside a tree: {found}"


def _broken_copy(tmp_path: Path, source: str) -> Path:
    labs = shutil.copytree(
        checkout_root() / "solutions", tmp_path / "labs", ignore=shutil.ignore_patterns("__pycache__")
    )
    (labs / "lesson01_endpoints" / "users.py").write_text(source)
    return labs


def test_a_lab_that_fails_to_import_gives_a_readable_failure(tmp_path: Path) -> None:
    labs = _broken_copy(tmp_path, "raise RuntimeError('half-finished edit')\n")
    run = run_checks(["1.1"], impl=labs)
    assert [result.outcome for result in run.results] == ["error", "error"]
    assert all("half-finished edit" in result.message for result in run.results)


def test_a_hanging_handler_costs_a_timeout_not_a_hang(tmp_path: Path) -> None:
    hanging = (
        (checkout_root() / "solutions" / "lesson01_endpoints" / "users.py")
        .read_text()
        .replace(
            '    """One user by id."""\n',
            '    """One user by id."""\n    import asyncio\n\n    await asyncio.sleep(3600)\n',
        )
    )
    labs = _broken_copy(tmp_path, hanging)
    started = time.monotonic()
    run = run_checks(["1.1"], impl=labs, timeout=2)
    assert time.monotonic() - started < 20
    assert not any(result.passed for result in run.results)
    assert all("Timeout" in result.message for result in run.results), [r.message for r in run.results]


def test_selectors_pick_exercises_and_lessons() -> None:
    assert [exercise.id for exercise in select(["1.2"])] == ["1.2"]
    whole = [exercise.id for exercise in select(["1"])]
    assert whole == [exercise.id for exercise in lessons()[0].exercises]
    assert len(select([])) == sum(len(lesson.exercises) for lesson in lessons())


def test_the_table_names_each_failure_with_its_requirement(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    run = run_checks(["1.1"], impl=STARTER)
    render(run, Console(width=200, color_system=None))
    out = capsys.readouterr().out
    assert "Requirement: GET /users/3" in out and "expected 200" in out and "0/2 points" in out


FAILING_CHECK = '''
import pytest


@pytest.mark.exercise("1.1", points=1)
def test_answers_42():
    """GET /answer returns 42."""
    answer = 41
    assert answer == 42, "GET /answer: expected 42"
'''


@pytest.mark.parametrize("reported", [True, False])
def test_a_check_run_prints_a_failed_check_as_its_message_not_its_source(tmp_path: Path, reported: bool) -> None:
    """Under ``course check`` the report carries the verdicts: pytest is spared reading back the check's source."""
    (tmp_path / "test_lesson01_endpoints.py").write_text(FAILING_CHECK)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "course.pytest_plugin", "-c", "/dev/null"]
    command += ["--rootdir", str(tmp_path), "-p", "no:cacheprovider", str(tmp_path)]
    if reported:
        command.append(f"--course-report={tmp_path / 'report.json'}")
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    output = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60).stdout
    assert "GET /answer: expected 42" in output, output
    assert ("answer = 41" in output) is not reported, output  # the source of the failed check
