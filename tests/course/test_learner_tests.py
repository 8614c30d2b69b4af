"""A learner's tests, judged: they pass on the course's app and fail on a planted bug, as pytest reports it."""

from pathlib import Path

import pytest

from course.harness import shared_directory
from course.layout import find_lesson
from course.learner_tests import labs_with_tests, run_tests
from course.strength import variants_of

LEARNER_TEST = """
import httpx
import pytest
from asgi_lifespan import LifespanManager

from labs.lesson01_endpoints.app import create_app


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_a_missing_user_is_404():
    app = create_app()
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/users/999")).status_code == 404
"""


@pytest.mark.timeout(120)
def test_tests_that_pass_on_the_app_catch_a_planted_bug(tmp_path: Path) -> None:
    lesson = find_lesson("1")
    tests = tmp_path / "learner" / "tests"
    tests.mkdir(parents=True)
    (tests / "__init__.py").touch()
    (tests / "test_users.py").write_text(LEARNER_TEST)
    bug = next(v for v in variants_of(lesson) if v.name == "1.1-no-404")
    with shared_directory() as results:
        reference = run_tests(lesson, labs_with_tests(lesson, tests, tmp_path / "ref"), results, "reference")
        planted = run_tests(lesson, labs_with_tests(lesson, tests, tmp_path / "bug", bug.patch), results, "bug")
        (tests / "test_users.py").write_text("def test_nothing():\n    pass\n")
        vacuous = run_tests(lesson, labs_with_tests(lesson, tests, tmp_path / "vac", bug.patch), results, "vacuous")
    assert reference.all_passed and (reference.tests, reference.failed) == (1, 0), reference.output
    # The warm process the run forks from imported anyio ahead; pytest's note about it is not the learner's.
    assert "warning" not in reference.output, reference.output
    assert planted.caught and planted.failed == 1, planted.output
    assert vacuous.all_passed and not vacuous.caught, "a test that asserts nothing notices no bug"


@pytest.mark.timeout(120)
def test_nothing_above_the_lab_configures_the_learners_run(tmp_path: Path) -> None:
    """Only the lab configures the run: a conftest.py in a folder above it (labs/, /tmp) is never taken."""
    lesson = find_lesson("1")
    tests = tmp_path / "learner" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_users.py").write_text(LEARNER_TEST)
    labs = labs_with_tests(lesson, tests, tmp_path / "ref")
    (labs / "conftest.py").write_text("def pytest_collection_modifyitems(items):\n    items.clear()\n")
    with shared_directory() as results:
        run = run_tests(lesson, labs, results, "reference")
    assert run.all_passed and run.tests == 1, run.output


@pytest.mark.timeout(120)
def test_a_run_that_asks_only_whether_a_test_fails_stops_at_the_first_and_reads_back_no_source(
    tmp_path: Path,
) -> None:
    lesson = find_lesson("1")
    tests = tmp_path / "learner" / "tests"
    tests.mkdir(parents=True)
    failing = "def test_fails_{}():\n    counted = 1\n    assert counted == 2\n"
    (tests / "test_users.py").write_text(failing.format("first") + failing.format("second"))
    with shared_directory() as results:
        runs = {
            only_caught: run_tests(
                lesson,
                labs_with_tests(lesson, tests, tmp_path / str(only_caught)),
                results,
                str(only_caught),
                only_caught=only_caught,
            )
            for only_caught in (False, True)
        }
    assert runs[False].tests == runs[False].failed == 2 and runs[False].caught, runs[False]
    assert runs[True].failed == 1 and runs[True].caught, runs[True]
    assert "counted = 1" in runs[False].output and "counted = 1" not in runs[True].output, runs[True].output
