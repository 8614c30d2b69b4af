"""``course grade --cache DIR``: grade only what changed since the last run.

A job, one lesson of one submission, is a pure function of what goes into it: the
learner's files of that lesson, the lesson's check module and the helpers beside it,
the instructor's hidden checks for that lesson, the grading machinery itself, and the
options that bound a check. Its outcomes are stored under a hash of all of that. A
resubmission that changes one lesson misses for that lesson alone; a changed check
module misses for its own lesson alone; a changed grader misses for every lesson.

Only settled verdicts are kept (passed, failed, skipped): a timeout or an error may
be the machine's bad moment, not the learner's code, so it is graded again next time.
The cache belongs to the instructor: nothing in it comes from a path a learner controls,
and its entries hold no learner name (identical work shares an entry). It also keeps how
long each lesson took to grade, so that the next run starts the heaviest lessons first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from functools import cache
from pathlib import Path

from .. import __version__
from ..layout import Exercise, Lesson, checkout_root
from ..safe_fs import make_directory, replace_file
from .reports import CheckOutcome
from .submissions import lab_files

SETTLED = frozenset({"passed", "failed", "skipped"})
FORMAT = 1  # bump when the entries' layout changes
DURATIONS = "durations.json"  # lesson package → mean seconds per job in the last run that graded it
# What a check module may use besides itself, per lesson: its planted bugs and chaffs.
LESSON_MATERIAL = ("tests/strength/{package}", "tests/exercises/chaffs/{package}")


class CacheRefused(ValueError):
    """The cache directory is not one the grader can trust."""


def _digest_files(digest: hashlib._Hash, root: Path, files: Iterable[Path]) -> None:
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def _tree_files(folder: Path) -> list[Path]:
    """Regular files under ``folder`` (which the grader made, or the checkout holds), as a submission counts them."""
    return lab_files(folder) if folder.is_dir() else []


@cache
def machinery_digest() -> str:
    """The grader's own version: the course package's source and its version number."""
    digest = hashlib.sha256(f"course {__version__} format {FORMAT}".encode())
    package = Path(__file__).resolve().parents[1]
    _digest_files(digest, package, [path for path in _tree_files(package) if path.suffix == ".py"])
    return digest.hexdigest()


def lesson_context(
    lesson: Lesson, exercises: Sequence[Exercise], hidden_modules: Sequence[Path], options: dict[str, object]
) -> str:
    """Everything a job of ``lesson`` depends on besides the learner's files."""
    root = checkout_root()
    digest = hashlib.sha256(machinery_digest().encode())
    digest.update(json.dumps(options, sort_keys=True).encode())
    digest.update(json.dumps(sorted(exercise.id for exercise in exercises)).encode())
    exercises_dir = root / "tests" / "exercises"
    shared = [path for path in exercises_dir.glob("*.py") if not path.name.startswith("test_lesson")]
    _digest_files(digest, root, [root / lesson.check_module, *shared])
    for pattern in LESSON_MATERIAL:
        _digest_files(digest, root, _tree_files(root / pattern.format(package=lesson.package)))
    name = Path(lesson.check_module).name
    for module in hidden_modules:
        if module.name == name:
            digest.update(b"hidden\0" + hashlib.sha256(module.read_bytes()).digest())
    return digest.hexdigest()


def submission_digest(labs: Path, lesson: Lesson) -> str:
    """The learner's files of one lesson, in the grader's own copy of the submission."""
    digest = hashlib.sha256()
    package = labs / lesson.package
    _digest_files(digest, labs, _tree_files(package))
    if (labs / "__init__.py").is_file():
        _digest_files(digest, labs, [labs / "__init__.py"])
    return digest.hexdigest()


class GradeCache:
    """Outcomes of jobs by content: ``get`` before grading a job, ``put`` after."""

    def __init__(self, directory: Path) -> None:
        if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
            raise CacheRefused(f"{directory} is not a directory of its own (a link or a file)")
        if not directory.exists():
            make_directory(directory)
        self.directory = directory
        self.hits = 0
        self.misses = 0

    def key(self, context: str, labs: Path, lesson: Lesson) -> str:
        return hashlib.sha256(f"{context}:{submission_digest(labs, lesson)}".encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str, learner: str) -> list[CheckOutcome] | None:
        """The stored outcomes of this job, now for ``learner``; None on a miss."""
        try:
            rows = json.loads(self._path(key).read_text(encoding="utf-8"))
            outcomes = [CheckOutcome(**{**row, "learner": learner, "advice": tuple(row["advice"])}) for row in rows]
        except (OSError, ValueError, TypeError, KeyError):
            self.misses += 1
            return None
        self.hits += 1
        return outcomes

    def put(self, key: str, outcomes: Sequence[CheckOutcome]) -> bool:
        """Keep a job's outcomes if every verdict is settled; whether they were kept."""
        if not outcomes or any(outcome.status not in SETTLED for outcome in outcomes):
            return False
        rows = [{**asdict(outcome), "learner": ""} for outcome in outcomes]
        folder = self._path(key).parent
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700)
        replace_file(folder, f"{key}.json", json.dumps(rows).encode())
        return True

    def durations(self) -> dict[str, float]:
        """Seconds a job of each lesson took when last graded; empty if unknown."""
        try:
            stored = json.loads((self.directory / DURATIONS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(stored, dict):
            return {}
        return {str(k): float(v) for k, v in stored.items() if isinstance(v, int | float)}

    def record_durations(self, measured: dict[str, float]) -> None:
        """Remember these lessons' job durations, keeping the others'."""
        if measured:
            merged = {**self.durations(), **{k: round(v, 3) for k, v in measured.items()}}
            replace_file(self.directory, DURATIONS, json.dumps(merged, sort_keys=True).encode())
