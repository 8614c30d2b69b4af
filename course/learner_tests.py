"""A learner's own tests, judged: they must pass on the course's app and fail on each planted bug.

In the testing lesson the learner writes tests, in the ``tests/`` folder of the lab. A check
judges them the way Examplar judges a student's tests against "chaffs": it builds a labs
directory holding the course's solution of the lesson with the learner's ``tests/`` in
place of its own, runs them there (``harness.run_lab_command``, so under the grader in a
jail, on a read-only copy), and again on that app with each planted bug applied. Tests that
fail on the course's app, are skipped, or collect nothing earn nothing; a planted bug no test
notices is named in plain words, never shown as code.

A check finds the learner's folder with ``learner_tests``: it copies the ``tests/`` of the
tree under test (the learner's labs, or the submission's under the grader), reading it as
root reads learner files. The run is the learner's own code, configured by the lab's
``pytest.ini`` only (never the course's), with plugin autoloading off: what it reports is
what the learner's tests did.
"""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .config import MODE_ENV
from .harness import SharedDirectory, run_lab_command
from .layout import Lesson, checkout_root, tree_root
from .patches import IGNORED, apply
from .safe_fs import NOFOLLOW, read_bounded

TESTS = "tests"
RESULTS_LIMIT = 1 << 20
# What is taken of a learner's tests folder: enough for any test suite, bounded for a hostile one.
TESTS_FILE_LIMIT = 1 << 18  # bytes in one file; a larger file is left out
TESTS_TOTAL_LIMIT = 1 << 21  # bytes in all; files past it are left out
TESTS_COUNT_LIMIT = 200  # files
TESTS_DEPTH_LIMIT = 6  # folders below tests/
SKIPPED_NAMES = frozenset({"__pycache__", ".pytest_cache", ".ipynb_checkpoints"})
PLUGINS = ("anyio",)  # what the learner's tests may use: anyio's plugin runs async tests
# The warm process a run forks from imported anyio before pytest could rewrite it; pytest's note says so.
# It is about the machinery, not the learner's tests, whose own import-order notes still show.
WARM_IMPORT_NOTE = "ignore:Module already imported so cannot be rewritten; anyio:pytest.PytestAssertRewriteWarning"


@dataclass(frozen=True)
class TestRun:
    """What one run of the learner's tests did."""

    tests: int
    failed: int
    skipped: int
    output: str
    returncode: int

    @property
    def passed(self) -> int:
        return self.tests - self.failed - self.skipped

    @property
    def all_passed(self) -> bool:
        """Something ran, and nothing failed or was skipped."""
        return self.tests > 0 and self.failed == 0 and self.skipped == 0 and self.returncode == 0

    @property
    def caught(self) -> bool:
        """At least one test failed (on a planted bug, that is what the learner wants)."""
        return self.failed > 0 or self.returncode not in (0, 5)


def labs_with_tests(lesson: Lesson, tests: Path, dest: Path, patch: str = "") -> Path:
    """``dest/labs``: the course's solution of ``lesson`` with the learner's ``tests`` folder, and ``patch`` applied."""
    labs = dest / "labs"
    labs.mkdir(parents=True)
    (labs / "__init__.py").touch()
    package = labs / lesson.package
    shutil.copytree(checkout_root() / "solutions" / lesson.package, package, ignore=IGNORED)
    shutil.rmtree(package / TESTS, ignore_errors=True)
    if tests.is_dir():
        shutil.copytree(tests, package / TESTS, ignore=IGNORED, symlinks=False)
    if patch:
        apply(patch, labs)
    return labs


def learner_tests(lesson: Lesson, dest: Path) -> Path:
    """``dest``, a new folder holding a copy of the learner's ``tests`` folder of ``lesson`` in the tree under test.

    The tree under test is ``COURSE_ROOT`` (``layout.tree_root``): the learner's labs in
    ``course check``, the submission's in the grader's check worker. The learner controls
    everything below ``labs/``, so it is read as root reads learner files (``safe_fs``): no
    link is followed, only regular files are copied, each and all of them bounded in size and
    number. A missing folder gives an empty ``dest``: the run then collects nothing.
    """
    dest.mkdir(parents=True)
    try:
        # labs/ itself may be a link the machinery made (course.tree); below it, nothing is followed.
        labs = os.open(tree_root() / "labs", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return dest
    opened = [labs]
    try:
        package = os.open(lesson.package, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW, dir_fd=labs)
        opened.append(package)
        top = os.open(TESTS, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW, dir_fd=package)
        opened.append(top)
    except OSError:
        for descriptor in opened:
            os.close(descriptor)
        return dest
    os.close(labs)
    os.close(package)
    _copy_regular_files(top, dest)
    return dest


def _copy_regular_files(top: int, dest: Path) -> None:
    """Copy the regular files under the open directory ``top`` into ``dest``, level by level; closes ``top``."""
    pending = [(top, dest, 0)]
    files = total = 0
    while pending:
        descriptor, target, depth = pending.pop()
        try:
            with os.scandir(descriptor) as entries:
                for entry in sorted(entries, key=lambda item: item.name):
                    if entry.name in SKIPPED_NAMES or entry.name.endswith(".pyc"):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        if depth >= TESTS_DEPTH_LIMIT:
                            continue
                        try:
                            inner = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW, dir_fd=descriptor)
                        except OSError:  # swapped for a link or a file meanwhile
                            continue
                        (target / entry.name).mkdir()
                        pending.append((inner, target / entry.name, depth + 1))
                        continue
                    if files >= TESTS_COUNT_LIMIT or not entry.is_file(follow_symlinks=False):
                        continue
                    try:
                        data = read_bounded(
                            entry.name, min(TESTS_FILE_LIMIT, TESTS_TOTAL_LIMIT - total), dir_fd=descriptor
                        )
                    except OSError:  # a link, a FIFO, too large, or gone: not part of the copy
                        continue
                    (target / entry.name).write_bytes(data)
                    files, total = files + 1, total + len(data)
        finally:
            os.close(descriptor)


def _count(report: bytes) -> tuple[int, int, int]:
    """tests, failed (failures and errors), skipped, from pytest's JUnit XML."""
    root = ElementTree.fromstring(report)
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    totals = [0, 0, 0]
    for suite in suites:
        totals[0] += int(suite.get("tests", 0))
        totals[1] += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        totals[2] += int(suite.get("skipped", 0))
    return totals[0], totals[1], totals[2]


def run_tests(
    lesson: Lesson,
    labs: Path,
    results: SharedDirectory,
    label: str,
    timeout: float = 60.0,
    select: Sequence[str] = (),
    only_caught: bool = False,
) -> TestRun:
    """Run the learner's tests in ``labs`` (see ``labs_with_tests``); ``results`` receives pytest's report.

    ``select`` names files in the tests folder to run (``test_books.py``): an exercise whose
    tests live in their own module is judged by them alone. By default the whole folder runs.
    A run that is ``only_caught`` answers one question, whether any test fails (``TestRun.caught``):
    it stops at the first failure, and says it in one line, without reading back the source of
    every frame, which costs more than the tests.
    """
    package = f"labs/{lesson.package}"
    config = f"{package}/pytest.ini" if (labs / lesson.package / "pytest.ini").is_file() else "/dev/null"
    report = f"{results.path}/{label}.xml"
    targets = [f"{package}/{TESTS}/{name}" for name in select] or [f"{package}/{TESTS}"]
    # confcutdir: without it (``-c /dev/null`` puts it at /dev), pytest lists every folder from / down to the
    # tests, each entry of /tmp among them, and would take a conftest.py from any folder above the lab.
    args = [*targets, "-q", "-c", config, "--rootdir", package, "--confcutdir", package, "-p", "no:cacheprovider"]
    args += [item for plugin in PLUGINS for item in ("-p", plugin)] + [f"--junitxml={report}", "-W", WARM_IMPORT_NOTE]
    if only_caught:
        args += ["--exitfirst", "--tb=line"]
    # Embedded mode whatever the caller's: the tests make their own databases, and grading is embedded too.
    env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", MODE_ENV: "embedded"}
    ran = run_lab_command("pytest", args, env=env, timeout=timeout, labs=labs)
    written = results.files().get(f"{label}.xml", b"")
    try:
        tests, failed, skipped = _count(written[:RESULTS_LIMIT])
    except (ElementTree.ParseError, ValueError):
        tests, failed, skipped = 0, 0, 0
    return TestRun(tests, failed, skipped, ran.output[-3000:], ran.returncode)
