"""``course collect``: gather every learner's ``labs/`` from their JupyterHub home, ready for ``course grade``.

``course collect '/home/*/fastapi-course-lab' --out submissions/`` copies each matched
home's ``labs/`` into ``submissions/<learner>/labs/``.

- **The learner's name** is the path component the pattern's first wildcard matched
  (``jupyter-ana`` in ``/home/jupyter-ana/fastapi-course-lab``), without ``strip`` (by default
  JupyterHub's ``jupyter-``), made safe by ``safe_name``: ``ana``. Two homes giving one name are
  both refused, never one written over the other.
- **No link is followed** below the pattern's fixed prefix (the instructor's own path): each
  component of a home, ``labs/`` and everything in it is opened through ``safe_fs`` with
  ``O_NOFOLLOW``. Links, FIFOs, sockets and devices inside ``labs/`` are skipped and reported;
  a home or ``labs/`` that is a link is refused. Junk the grader ignores is not copied.
- **Bounded** by the grader's own ``SubmissionLimits`` (size, count, depth, name length): a
  submission over them is refused whole, since a partial copy would be graded as if whole.
  A single file over ``file_bytes`` is skipped and reported, and the rest collected.
- **Re-collecting replaces**: each learner's folder is built aside and swapped in; a home
  that is now missing, empty or refused loses its old folder, so ``--out`` never holds stale
  work. ``--out`` must be empty or an earlier collection (it holds ``collect-report.csv``).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .config import SandboxLimits, SubmissionLimits
from .grading.exports import csv_text
from .grading.reports import OutputDir, OutputRefused
from .grading.submissions import Budget, Refused, _skipped, safe_name
from .layout import Lesson
from .safe_fs import NOFOLLOW, open_directory, read_bounded, remove_tree

REPORT = "collect-report.csv"
REPORT_COLUMNS = ("learner", "home", "status", "files", "bytes", "skipped", "detail")
STRIP = "jupyter-"  # The Littlest JupyterHub names each learner's account jupyter-<name>
FILE_BYTES = SandboxLimits().file_bytes  # the largest file a lab may write in its jail
WILDCARDS = frozenset("*?[")


class NothingMatched(ValueError):
    """The pattern matched no home, or has no wildcard to name learners by."""


@dataclass(frozen=True)
class CollectRow:
    """One home: what became of it. ``status`` is collected, missing, empty or refused."""

    learner: str
    home: str
    status: str
    files: int = 0
    bytes: int = 0
    skipped: tuple[str, ...] = ()  # links and special files left behind, and files over the size limit
    reason: str = ""  # why a home was refused

    @property
    def detail(self) -> str:
        return self.reason or "; ".join(self.skipped)


@dataclass
class _Copy:
    files: int = 0
    bytes: int = 0
    lesson_files: int = 0


def learner_homes(pattern: str, strip: str = STRIP) -> tuple[Path, list[tuple[str, Path]]]:
    """The pattern's fixed prefix, and (learner name, home) for every match, sorted by home."""
    parts = Path(os.path.expanduser(pattern)).parts
    first = next((index for index, part in enumerate(parts) if WILDCARDS & set(part)), None)
    if first is None:
        raise NothingMatched(f"{pattern!r} has no wildcard; quote a pattern such as '/home/*/fastapi-course-lab'")
    prefix = Path(*parts[:first]) if first else Path()
    homes = sorted(Path(match) for match in glob.glob(os.path.expanduser(pattern)))
    if not homes:
        raise NothingMatched(f"no home matches {pattern!r}")
    return prefix, [(safe_name(home.parts[first].removeprefix(strip)), home) for home in homes]


def collect(
    pattern: str,
    out: Path,
    *,
    limits: SubmissionLimits | None = None,
    file_bytes: int = FILE_BYTES,
    strip: str = STRIP,
) -> list[CollectRow]:
    """Copy every matched home's labs/ into ``out/<learner>/labs``, write collect-report.csv, return its rows.

    NothingMatched when no home matches; OutputRefused when ``out`` is not an empty or
    earlier-collected directory of the user's own.
    """
    prefix, homes = learner_homes(pattern, strip)
    target = _output(out)
    try:
        counts = Counter(name for name, _ in homes)
        rows = []
        for name, home in homes:
            if counts[name] > 1 or name == REPORT:
                others = ", ".join(str(other) for same, other in homes if same == name and other != home)
                row = CollectRow(name, str(home), "refused", reason=f"the name {name} is also {others or 'the report'}")
            else:
                row = _collect_home(name, home, prefix, out, limits or SubmissionLimits(), file_bytes)
            if row.status != "collected":
                remove_tree(out / name)  # an earlier collection of this learner is stale now
            rows.append(row)
        cells = [(r.learner, r.home, r.status, r.files, r.bytes, len(r.skipped), r.detail) for r in rows]
        target.write(REPORT, csv_text([REPORT_COLUMNS, *cells]))
    finally:
        target.close()
    return rows


def _output(out: Path) -> OutputDir:
    """``out`` opened as a directory of the user's own, which must be empty or an earlier collection."""
    target = OutputDir(out)
    entries = set(os.listdir(target.descriptor))
    if entries and REPORT not in entries:
        target.close()
        raise OutputRefused(f"{out} is not empty and holds no {REPORT}; choose an empty or new --out")
    return target


def _collect_home(
    name: str, home: Path, prefix: Path, out: Path, limits: SubmissionLimits, file_bytes: int
) -> CollectRow:
    staging = out / f".{name}.collecting"
    skipped: list[str] = []
    try:
        with contextlib.ExitStack() as stack:
            descriptor = stack.enter_context(open_directory(prefix))  # the instructor's own path: links allowed
            for part in home.parts[len(prefix.parts) :]:
                descriptor = stack.enter_context(open_directory(part, dir_fd=descriptor))
            try:
                info = os.stat("labs", dir_fd=descriptor, follow_symlinks=False)
            except FileNotFoundError:
                return CollectRow(name, str(home), "missing")
            if not stat.S_ISDIR(info.st_mode):
                return CollectRow(name, str(home), "refused", reason=f"labs is {_kind(info.st_mode)}")
            labs = stack.enter_context(open_directory("labs", dir_fd=descriptor))
            remove_tree(staging)  # left by an interrupted run
            staging.mkdir(mode=0o700)
            copied = _copy_labs(labs, staging, Budget(limits), file_bytes, skipped)
    except Refused as refused:
        remove_tree(staging)
        return CollectRow(name, str(home), "refused", skipped=tuple(skipped), reason=str(refused))
    except OSError as exc:  # a home that is a link, unreadable, or gone meanwhile
        remove_tree(staging)
        why = "a link or not a folder" if exc.errno in (errno.ELOOP, errno.ENOTDIR) else exc.strerror
        return CollectRow(name, str(home), "refused", reason=f"{home} could not be read ({why})")
    if not copied.lesson_files:
        remove_tree(staging)
        return CollectRow(name, str(home), "empty", copied.files, copied.bytes, tuple(skipped))
    remove_tree(out / name)
    staging.rename(out / name)
    return CollectRow(name, str(home), "collected", copied.files, copied.bytes, tuple(skipped))


def _copy_labs(labs: int, dest: Path, budget: Budget, file_bytes: int, skipped: list[str]) -> _Copy:
    """Copy the directory open as ``labs`` into ``dest/labs``, one level at a time; links and specials are skipped."""
    copied = _Copy()
    pending: list[tuple[int, tuple[str, ...]]] = [(os.dup(labs), ("labs",))]
    try:
        while pending:
            descriptor, parts = pending.pop()
            try:
                dest.joinpath(*parts).mkdir()
                with os.scandir(descriptor) as entries:
                    for entry in entries:
                        inner = (*parts, entry.name)
                        if not _skipped(inner):
                            _copy_entry(descriptor, inner, dest, budget, file_bytes, skipped, pending, copied)
            finally:
                os.close(descriptor)
    finally:
        for descriptor, _ in pending:
            os.close(descriptor)
    return copied


def _copy_entry(
    descriptor: int,
    inner: tuple[str, ...],
    dest: Path,
    budget: Budget,
    file_bytes: int,
    skipped: list[str],
    pending: list[tuple[int, tuple[str, ...]]],
    copied: _Copy,
) -> None:
    """One entry of the directory open as ``descriptor``: a folder for later, a file now, anything else skipped.

    Every entry counts against the budget once, skipped ones too, so a million links cost no more than a refusal.
    """
    name, shown = inner[-1], "/".join(inner)
    try:
        info = os.stat(name, dir_fd=descriptor, follow_symlinks=False)
        data = None
        if stat.S_ISREG(info.st_mode) and info.st_size <= file_bytes:
            data = read_bounded(name, file_bytes, dir_fd=descriptor)
        elif stat.S_ISDIR(info.st_mode):
            budget.admit(inner)
            pending.append((os.open(name, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW, dir_fd=descriptor), inner))
            return
    except OSError:  # gone, grown, or swapped for a link or a FIFO since it was listed
        budget.admit(inner)
        skipped.append(f"{shown} changed while it was copied")
        return
    if data is None:
        budget.admit(inner)
        why = f"larger than {_megabytes(file_bytes)}" if stat.S_ISREG(info.st_mode) else _kind(info.st_mode)
        skipped.append(f"{shown} is {why}")
        return
    budget.admit(inner, len(data))
    dest.joinpath(*inner).write_bytes(data)
    copied.files += 1
    copied.bytes += len(data)
    copied.lesson_files += len(inner) > 2 and Lesson.from_package(inner[1]) is not None


def _megabytes(size: int) -> str:
    return f"{size >> 20} MB" if size % (1 << 20) == 0 else f"{size} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file or folder"
