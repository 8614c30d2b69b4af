"""Graded checks for lesson 11: the learner writes the tests, and the checks judge them.

Each exercise has a test module in ``labs/lesson11_testing/tests/`` (with the shared
``conftest.py``). A check copies the learner's tests folder and runs that module twice with
pytest (anyio's plugin, nothing else): on the course's own app, where every test must pass,
and on the app with one planted mistake ("chaff", in ``tests/exercises/chaffs/``), where at
least one test must fail. A run that collects nothing, skips a test or fails on the course's
app catches nothing. The course's app comes twice: as written, and rewritten with the same
behaviour (a "wheat", as Examplar calls it), so that tests which compare the app's code
instead of its answers fail there. The runs on the course's app are made once per module and test folder.

Checks see the learner's tests from outside: pytest's JUnit report, never their code.
"""

import hashlib
from pathlib import Path

import pytest

from course import learner_tests as learner
from course.harness import SharedDirectory
from course.layout import checkout_root, find_lesson
from course.learner_tests import labs_with_tests, learner_tests, run_tests
from course.strength import read_variant

from .expect import isolated_settings

LESSON = find_lesson("lesson11_testing")
CHAFFS = checkout_root() / "tests" / "exercises" / "chaffs" / LESSON.package
MODULES = {"11.1": "test_books.py", "11.2": "test_loans.py", "11.3": "test_catalogue.py"}
RUN_TIMEOUT = 20.0  # one pytest run of one module: a few dozen small tests take about two seconds, unloaded
# A check makes two runs at most (the course's app, once per module and tests folder; and the chaff's):
# more than the course's usual time per check, which is meant for one app's requests.
pytestmark = pytest.mark.timeout(2 * RUN_TIMEOUT + 15)
OUTPUT_SHOWN = 1500  # characters of pytest's output quoted when the tests fail on the course's app

hermetic_settings = isolated_settings("BOOKLY_")

# The course's app as written (no patch), and rewritten: each correct, each judged the same way.
WHEATS = {"": "", **{path.stem: path.read_text(encoding="utf-8") for path in sorted(CHAFFS.glob("wheat-*.patch"))}}
# (module, digest of the tests folder, wheat) → the run on that correct app: every chaff of an exercise needs it.
_reference_runs: dict[tuple[str, str, str], learner.TestRun] = {}


def digest(folder: Path) -> str:
    """A digest of every file under ``folder``, names and contents: the same tests give the same digest."""
    hashed = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            hashed.update(path.relative_to(folder).as_posix().encode() + b"\0")
            hashed.update(hashlib.sha256(path.read_bytes()).digest())
    return hashed.hexdigest()


def tail(output: str) -> str:
    """What pytest said, in short: the first error line and its summary of what failed, else its last lines."""
    lines = output.strip().splitlines()
    first_error = next((line.strip() for line in lines if line.startswith("E ")), "")
    marker = next((index for index, line in enumerate(lines) if "short test summary info" in line), None)
    text = "\n".join([first_error, *lines[marker + 1 :]]) if marker is not None else "\n".join(lines)
    text = text.strip()
    return text if len(text) <= OUTPUT_SHOWN else "…" + text[-OUTPUT_SHOWN:]


def on_the_course_app(tests: Path, module: str, scratch: Path, results: SharedDirectory, wheat: str) -> learner.TestRun:
    """The learner's ``module`` run on the course's app, as written or rewritten (``wheat``); cached per tests."""
    key = (module, digest(tests), wheat)
    if key not in _reference_runs:
        label = wheat or "course-app"
        labs = labs_with_tests(LESSON, tests, scratch / label, WHEATS[wheat])
        run = run_tests(LESSON, labs, results, label, timeout=RUN_TIMEOUT, select=[module])
        if run.returncode == -1:  # a timeout says nothing lasting about the tests: not kept
            return run
        _reference_runs[key] = run
    return _reference_runs[key]


def expect_a_valid_run(run: learner.TestRun, module: str, wheat: str = "") -> None:
    """Tests that cannot catch anything: nothing collected, something skipped, or failing on a correct app."""
    where = f"tests/{module}"
    if run.returncode == -1:
        raise AssertionError(f"Your tests in {where} did not finish within {RUN_TIMEOUT:g} s on the course's app.")
    assert not (wheat and run.failed), (
        f"{run.failed} of your {run.tests} test(s) in {where} fail on the course's app written differently: the"
        " same answers to every request, other code. Test what the app answers, never how its code is written."
        f" pytest said:\n{tail(run.output)}"
    )
    assert run.tests > 0, (
        f"No test ran from {where}: pytest collected nothing (is the file there, with functions named test_…?)."
        f" Tests that do not run catch nothing.\n{tail(run.output)}"
    )
    assert run.skipped == 0, (
        f"{run.skipped} of your {run.tests} test(s) in {where} were skipped: a skipped test checks nothing."
        " Remove the skip (or the condition that skips it)."
    )
    assert run.failed == 0 and run.returncode == 0, (
        f"{run.failed} of your {run.tests} test(s) in {where} fail on the course's app, which meets every"
        f" requirement: tests that fail on a correct app catch nothing. pytest said:\n{tail(run.output)}"
    )


def judge(exercise: str, chaff_name: str, scratch: Path, results: SharedDirectory) -> None:
    """The learner's tests of ``exercise`` pass on the course's app and fail on it with the chaff planted."""
    module = MODULES[exercise]
    chaff = read_variant(LESSON, CHAFFS / f"{chaff_name}.patch")
    assert chaff.exercise == exercise, f"{chaff_name} plants a bug for {chaff.exercise}, not {exercise}"
    tests = learner_tests(LESSON, scratch / "learner" / "tests")
    for wheat in WHEATS:
        expect_a_valid_run(on_the_course_app(tests, module, scratch, results, wheat), module, wheat)
    labs = labs_with_tests(LESSON, tests, scratch / "chaff", chaff.patch)
    # Only whether a test fails counts here, not which, nor where.
    planted = run_tests(LESSON, labs, results, "chaff", timeout=RUN_TIMEOUT, select=[module], only_caught=True)
    assert planted.returncode != -1, (
        f"Your tests in tests/{module} did not finish within {RUN_TIMEOUT:g} s on an app that {chaff.description}."
    )
    assert planted.failed > 0, (
        f"Your tests in tests/{module} accept an app that {chaff.description}: all {planted.tests} pass on it."
        " Add a test (or an assertion) that fails on such an app and passes on a correct one."
    )


# --- 11.1: fixtures, and tests of the books API ------------------------------------------------------------


@pytest.mark.exercise("11.1", points=1)
def test_book_tests_catch_a_missing_book_answered_200(tmp_path: Path, shared_directory: SharedDirectory) -> None:
    """Your tests in tests/test_books.py pass on the course's app, and fail on an app that answers 200 and null for
    a book that does not exist.
    """
    judge("11.1", "11.1-missing-book-200", tmp_path, shared_directory)


@pytest.mark.exercise("11.1", points=1)
def test_book_tests_catch_a_new_book_answered_200(tmp_path: Path, shared_directory: SharedDirectory) -> None:
    """Your tests in tests/test_books.py pass on the course's app, and fail on an app that answers 200 instead of
    201 when it adds a book.
    """
    judge("11.1", "11.1-created-200", tmp_path, shared_directory)


@pytest.mark.exercise("11.1", points=1)
def test_book_tests_catch_zero_copies_accepted(tmp_path: Path, shared_directory: SharedDirectory) -> None:
    """Your tests in tests/test_books.py pass on the course's app, and fail on an app that accepts a book with 0
    copies.
    """
    judge("11.1", "11.1-accepts-zero-copies", tmp_path, shared_directory)


@pytest.mark.exercise("11.1", points=1)
def test_book_tests_catch_ten_copies_refused(tmp_path: Path, shared_directory: SharedDirectory) -> None:
    """Your tests in tests/test_books.py pass on the course's app, and fail on an app that refuses a book with 10
    copies (the most allowed).
    """
    judge("11.1", "11.1-refuses-ten-copies", tmp_path, shared_directory)


# --- 11.2: loans, on a clock the tests set with dependency_overrides ---------------------------------------


@pytest.mark.exercise("11.2", points=1)
def test_loan_tests_catch_a_loan_due_a_day_early(tmp_path: Path, shared_directory: SharedDirectory) -> None:
    """Your tests in tests/test_loans.py pass on the course's app, and fail on an app that makes a loan due 13 days
    after it was borrowed instead of 14.
    """
    judge("11.2", "11.2-due-a-day-early", tmp_path, shared_directory)


@pytest.mark.exercise("11.2", points=1)
def test_loan_tests_catch_overdue_on_the_due_date(tmp_path: Path, shared_directory: SharedDirectory) -> None:
    """Your tests in tests/test_loans.py pass on the course's app, and fail on an app that calls a loan overdue on
    its due date itself.
    """
    judge("11.2", "11.2-overdue-on-the-due-date", tmp_path, shared_directory)


@pytest.mark.exercise("11.2", points=1)
def test_loan_tests_catch_the_machine_clock(tmp_path: Path, shared_directory: SharedDirectory) -> None:
    """Your tests in tests/test_loans.py pass on the course's app, and fail on an app that dates a new loan by the
    machine's clock instead of the get_today dependency.
    """
    judge("11.2", "11.2-ignores-the-clock", tmp_path, shared_directory)


@pytest.mark.exercise("11.2", points=1)
def test_loan_tests_catch_a_copy_lent_too_many(tmp_path: Path, shared_directory: SharedDirectory) -> None:
    """Your tests in tests/test_loans.py pass on the course's app, and fail on an app that lends a copy when every
    copy is already out.
    """
    judge("11.2", "11.2-lends-a-copy-too-many", tmp_path, shared_directory)


# --- 11.3: the catalogue kept in lifespan state ------------------------------------------------------------


@pytest.mark.exercise("11.3", points=1)
def test_catalogue_tests_catch_staleness_after_a_new_book(tmp_path: Path, shared_directory: SharedDirectory) -> None:
    """Your tests in tests/test_catalogue.py pass on the course's app, and fail on an app that keeps showing the
    old catalogue after a book is added.
    """
    judge("11.3", "11.3-stale-after-a-new-book", tmp_path, shared_directory)


@pytest.mark.exercise("11.3", points=1)
def test_catalogue_tests_catch_staleness_after_a_loan(tmp_path: Path, shared_directory: SharedDirectory) -> None:
    """Your tests in tests/test_catalogue.py pass on the course's app, and fail on an app that keeps showing a copy
    as available after it is lent.
    """
    judge("11.3", "11.3-stale-after-a-loan", tmp_path, shared_directory)


@pytest.mark.exercise("11.3", points=1)
def test_catalogue_tests_catch_staleness_after_a_return(tmp_path: Path, shared_directory: SharedDirectory) -> None:
    """Your tests in tests/test_catalogue.py pass on the course's app, and fail on an app that keeps showing a copy
    as on loan after it is returned.
    """
    judge("11.3", "11.3-stale-after-a-return", tmp_path, shared_directory)


@pytest.mark.exercise("11.3", points=1)
def test_catalogue_tests_catch_loans_left_out(tmp_path: Path, shared_directory: SharedDirectory) -> None:
    """Your tests in tests/test_catalogue.py pass on the course's app, and fail on an app whose catalogue counts
    every copy as available, even the copies on loan.
    """
    judge("11.3", "11.3-available-ignores-loans", tmp_path, shared_directory)
