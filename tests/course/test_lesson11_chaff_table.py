"""Lesson 11: which planted mistakes ("chaffs") each kind of test suite catches.

The grading of lesson 11 runs a learner's tests on the course's app and on the app with
each chaff planted. This test runs four suites that way, in-process (``course.learner_tests``
as a self-check does): the reference tests, a good suite written differently (plain functions
on the sync TestClient), a weak one that checks status codes only, and a vacuous one whose
tests assert nothing that can fail. It prints the table and asserts what each suite catches.
Run it with ``-s`` to see the table.
"""

import shutil
from pathlib import Path

import pytest

from course.harness import shared_directory
from course.layout import checkout_root, find_lesson
from course.learner_tests import labs_with_tests, run_tests
from course.patches import apply
from course.strength import read_variant

LESSON = find_lesson("lesson11_testing")
CHAFFS = checkout_root() / "tests" / "exercises" / "chaffs" / LESSON.package
STRENGTH = checkout_root() / "tests" / "strength" / LESSON.package
MODULES = {"11.1": "test_books.py", "11.2": "test_loans.py", "11.3": "test_catalogue.py"}

WEAK = {
    "test_books.py": """
import pytest

pytestmark = pytest.mark.anyio


async def test_add_a_book(client):
    response = await client.post("/books", json={"title": "Emma", "author": "Jane Austen", "copies": 2})
    assert response.status_code == 201


async def test_a_missing_book(client):
    assert (await client.get("/books/999")).status_code == 404
""",
    "test_loans.py": """
import pytest

pytestmark = pytest.mark.anyio


async def test_borrow(client, add_book):
    book = await add_book(copies=1)
    assert (await client.post("/loans", json={"book_id": book["id"], "borrower": "ada"})).status_code == 201
    assert (await client.post("/loans", json={"book_id": book["id"], "borrower": "bob"})).status_code == 409
""",
    "test_catalogue.py": """
import pytest

pytestmark = pytest.mark.anyio


async def test_catalogue(client, add_book):
    await add_book()
    assert (await client.get("/catalogue")).status_code == 200
""",
}

VACUOUS = {
    "test_books.py": """
import pytest

pytestmark = pytest.mark.anyio


async def test_books(client):
    await client.post("/books", json={"title": "Emma", "author": "Jane Austen", "copies": 0})
    await client.get("/books/999")
""",
    "test_loans.py": """
from datetime import date
from unittest.mock import Mock

import pytest

from ..dependencies import get_today

pytestmark = pytest.mark.anyio


async def test_loans(app, client, add_book):
    today = Mock(return_value=date(2024, 3, 1))
    app.dependency_overrides[get_today] = lambda: today()
    book = await add_book()
    await client.post("/loans", json={"book_id": book["id"], "borrower": "ada"})
    assert today.called_once_with()  # a made-up attribute: always true
""",
    "test_catalogue.py": """
import pytest

pytestmark = pytest.mark.anyio


async def test_catalogue(client, add_book):
    await add_book()
    response = await client.get("/catalogue")
    assert response  # a Response is true whatever its status
""",
}


def reference_tests(dest: Path, patch: str = "") -> Path:
    """The solution's tests folder (with ``patch``, a strength alternative, applied), copied to ``dest``."""
    root = dest / "source"
    shutil.copytree(checkout_root() / "solutions" / LESSON.package, root / LESSON.package)
    if patch:
        apply(patch, root)
    return root / LESSON.package / "tests"


def suite(dest: Path, modules: dict[str, str]) -> Path:
    """The solution's conftest with these test modules."""
    tests = dest / "tests"
    tests.mkdir(parents=True)
    for name in ("__init__.py", "conftest.py"):
        shutil.copy(checkout_root() / "solutions" / LESSON.package / "tests" / name, tests / name)
    for name, text in modules.items():
        (tests / name).write_text(text.lstrip())
    return tests


def caught_by(tests: Path, scratch: Path) -> dict[str, bool | None]:
    """Chaff name → caught; None for every chaff of an exercise whose module fails on the course's app."""
    table: dict[str, bool | None] = {}
    with shared_directory() as results:
        for exercise, module in MODULES.items():
            reference = run_tests(
                LESSON, labs_with_tests(LESSON, tests, scratch / f"ref-{exercise}"), results, "ref", select=[module]
            )
            for path in sorted(CHAFFS.glob(f"{exercise}-*.patch")):
                chaff = read_variant(LESSON, path)
                if not reference.all_passed:
                    table[path.stem] = None
                    continue
                labs = labs_with_tests(LESSON, tests, scratch / path.stem, chaff.patch)
                table[path.stem] = run_tests(LESSON, labs, results, "chaff", select=[module]).failed > 0
    return table


@pytest.mark.embedded_only
@pytest.mark.timeout(900)
@pytest.mark.long
def test_which_suites_catch_which_chaffs(tmp_path: Path) -> None:
    suites = {
        "reference": reference_tests(tmp_path / "reference"),
        "good (sync TestClient)": reference_tests(
            tmp_path / "good", (STRENGTH / "alt-sync-testclient.patch").read_text(encoding="utf-8")
        ),
        "weak (status codes only)": suite(tmp_path / "weak", WEAK),
        "vacuous (asserts nothing)": suite(tmp_path / "vacuous", VACUOUS),
    }
    tables = {name: caught_by(tests, tmp_path / f"run-{index}") for index, (name, tests) in enumerate(suites.items())}
    chaffs = sorted(next(iter(tables.values())))
    width = max(map(len, chaffs))
    print("\n" + " " * width + " | " + " | ".join(suites))
    for chaff in chaffs:
        cells = ["caught" if t[chaff] else ("-" if t[chaff] is False else "fails on app") for t in tables.values()]
        print(
            chaff.ljust(width)
            + " | "
            + " | ".join(cell.ljust(len(name)) for cell, name in zip(cells, suites, strict=True))
        )
    assert all(tables["reference"].values()), tables["reference"]
    assert all(tables["good (sync TestClient)"].values()), tables["good (sync TestClient)"]
    weak = {chaff for chaff, caught in tables["weak (status codes only)"].items() if caught}
    assert weak == {"11.1-created-200", "11.1-missing-book-200", "11.2-lends-a-copy-too-many"}, weak
    assert not any(tables["vacuous (asserts nothing)"].values()), tables["vacuous (asserts nothing)"]
    assert None not in tables["vacuous (asserts nothing)"].values(), "the vacuous suite passes on the course's app"
