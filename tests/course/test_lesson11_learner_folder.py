"""Lesson 11's checks take the learner's tests folder from the tree under test: regular files only, bounded."""

import os
from pathlib import Path

import pytest

from course.config import ROOT_ENV
from course.layout import find_lesson
from course.learner_tests import TESTS_FILE_LIMIT, learner_tests


def test_only_regular_files_are_copied_and_no_link_is_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lesson = find_lesson("lesson11_testing")
    secret = tmp_path / "secret.txt"
    secret.write_text("not the learner's")
    tests = tmp_path / "tree" / "labs" / lesson.package / "tests"
    (tests / "helpers").mkdir(parents=True)
    (tests / "__pycache__").mkdir()
    (tests / "test_books.py").write_text("def test_one():\n    assert True\n")
    (tests / "helpers" / "factories.py").write_text("MADE = 1\n")
    (tests / "__pycache__" / "test_books.cpython-311.pyc").write_bytes(b"\0")
    (tests / "too_big.py").write_bytes(b"#" * (TESTS_FILE_LIMIT + 1))
    (tests / "linked.py").symlink_to(secret)
    (tests / "linked_folder").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(tests / "fifo.py")
    monkeypatch.setenv(ROOT_ENV, str(tmp_path / "tree"))

    copied = learner_tests(lesson, tmp_path / "copy" / "tests")

    found = sorted(path.relative_to(copied).as_posix() for path in copied.rglob("*"))
    assert found == ["helpers", "helpers/factories.py", "test_books.py"]
    assert not any(path.is_symlink() for path in copied.rglob("*"))


def test_a_tests_folder_that_is_a_link_or_missing_gives_an_empty_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lesson = find_lesson("lesson11_testing")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "test_books.py").write_text("def test_one():\n    assert True\n")
    package = tmp_path / "tree" / "labs" / lesson.package
    package.mkdir(parents=True)
    monkeypatch.setenv(ROOT_ENV, str(tmp_path / "tree"))
    assert list(learner_tests(lesson, tmp_path / "missing").iterdir()) == []
    (package / "tests").symlink_to(elsewhere, target_is_directory=True)
    assert list(learner_tests(lesson, tmp_path / "linked").iterdir()) == []
