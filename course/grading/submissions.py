"""Submissions: what a learner hands in (``course submit``) and how the grader takes it in.

A submission is the learner's ``labs/`` and nothing else: a zip made by ``course submit``
(with a manifest of course version, file hashes and time), a directory holding
``labs/``, or a ``labs/`` directory itself.

Taking one in is the first thing the grader does with learner data, as root, so it is
bounded and follows no link: only regular files and directories are copied, within
limits of size, count, name length and depth, each opened through a descriptor that
refuses links, FIFOs and devices. A submission that breaks a limit is refused with one
clear line, which becomes its feedback; the rest of the class is graded as usual.
"""

from __future__ import annotations

import compileall
import hashlib
import json
import os
import re
import stat
import time
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .. import __version__
from ..config import SubmissionLimits
from ..safe_fs import NOFOLLOW, open_regular
from ..sync import SKIPPED_PARTS

MANIFEST = "manifest.json"
SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


class Refused(ValueError):
    """A submission the grader will not take in, and why, in words for the learner."""


@dataclass(frozen=True)
class Submission:
    name: str
    labs: Path


def safe_name(name: str) -> str:
    cleaned = SAFE_NAME.sub("-", name).strip(".-")[:80]
    return cleaned or "learner"


def submission_name(path: Path) -> str:
    """What a submission is called in the gradebook: a zip's stem, else its directory's name.

    A bare ``labs/`` directory is named after the directory that holds it. ``course grade
    --only`` and the grader both ask this one function.
    """
    if path.suffix == ".zip":
        return safe_name(path.stem)
    return safe_name(path.parent.name if path.name == "labs" else path.name)


def lab_files(labs: Path) -> list[Path]:
    """The files a submission holds of ``labs``, in order: caches and compiled files left out."""
    return sorted(
        path
        for path in labs.rglob("*")
        if path.is_file() and not SKIPPED_PARTS & set(path.relative_to(labs).parts) and path.suffix != ".pyc"
    )


def pack(name: str, labs: Path, out_dir: Path) -> Path:
    """``submissions/NAME.zip``: the learner's labs/ and a manifest, nothing else."""
    files = lab_files(labs)
    manifest = {
        "name": name,
        "course_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": {f"labs/{p.relative_to(labs).as_posix()}": hashlib.sha256(p.read_bytes()).hexdigest() for p in files},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{safe_name(name)}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        for path in files:
            archive.write(path, f"labs/{path.relative_to(labs).as_posix()}")
    return target


class Budget:
    """What is left of a submission's limits while it is copied in."""

    def __init__(self, limits: SubmissionLimits) -> None:
        self.limits, self.bytes, self.entries = limits, 0, 0

    def admit(self, parts: tuple[str, ...], size: int = 0) -> None:
        shown = "/".join(parts)
        if any(len(part.encode()) > self.limits.name_length for part in parts):
            raise Refused(f"{shown[:120]}…: a name longer than {self.limits.name_length} bytes")
        if len(shown.encode()) > self.limits.path_length or len(parts) > self.limits.depth:
            raise Refused(f"{shown[:120]}…: nested deeper than {self.limits.depth} folders or too long a path")
        self.entries += 1
        self.bytes += size
        if self.entries > self.limits.entries:
            raise Refused(f"more than {self.limits.entries} files and folders")
        if self.bytes > self.limits.unpacked_bytes:
            raise Refused(f"more than {self.limits.unpacked_bytes // 1024**2} MB of files")


def _skipped(parts: tuple[str, ...]) -> bool:
    return bool(SKIPPED_PARTS & set(parts)) or parts[-1].endswith(".pyc")


def _write(dest: Path, parts: tuple[str, ...], data: bytes) -> None:
    target = dest.joinpath(*parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _unpack(archive: Path, dest: Path, budget: Budget) -> None:
    """Extract only regular files under labs/, refusing links, escapes and zip bombs."""
    descriptor = open_regular(archive)
    with open(descriptor, "rb") as file:
        if os.fstat(file.fileno()).st_size > budget.limits.archive_bytes:
            raise Refused(f"{archive.name} is larger than {budget.limits.archive_bytes // 1024**2} MB")
        try:
            opened = zipfile.ZipFile(file)
        except zipfile.BadZipFile:
            raise Refused(f"{archive.name} is not a zip file") from None
        with opened:
            for info in opened.infolist():
                parts = PurePosixPath(info.filename).parts
                if not parts or parts[0] != "labs" or ".." in parts or info.filename.startswith("/"):
                    continue
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise Refused(f"{info.filename} is a link; only files and folders are accepted")
                if info.is_dir() or _skipped(parts):
                    continue
                budget.admit(parts, info.file_size)
                with opened.open(info) as member:
                    data = member.read(info.file_size + 1)
                if len(data) > info.file_size:
                    raise Refused(f"{info.filename} unpacks larger than it says")
                _write(dest, parts, data)


def _copy_directory(labs: Path, dest: Path, budget: Budget) -> None:
    """Copy a directory of files, one level at a time through descriptors; a link or special file is refused."""
    top = os.open(labs, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW)
    pending: list[tuple[int, tuple[str, ...]]] = [(top, ("labs",))]
    try:
        while pending:
            descriptor, parts = pending.pop()
            try:
                with os.scandir(descriptor) as entries:
                    for entry in entries:
                        _take_entry(entry.name, descriptor, (*parts, entry.name), dest, budget, pending)
            finally:
                os.close(descriptor)
    finally:
        for descriptor, _ in pending:
            os.close(descriptor)


def _take_entry(
    name: str,
    descriptor: int,
    inner: tuple[str, ...],
    dest: Path,
    budget: Budget,
    pending: list[tuple[int, tuple[str, ...]]],
) -> None:
    """Copy one entry of a directory open as ``descriptor``: a file now, a folder later, anything else refused."""
    if _skipped(inner):
        return
    info = os.stat(name, dir_fd=descriptor, follow_symlinks=False)
    if stat.S_ISDIR(info.st_mode):
        budget.admit(inner)
        pending.append((os.open(name, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW, dir_fd=descriptor), inner))
    elif stat.S_ISREG(info.st_mode):
        budget.admit(inner, info.st_size)
        with open(open_regular(name, dir_fd=descriptor), "rb") as file:
            _write(dest, inner, file.read(info.st_size))  # what was counted, no more
    else:
        kind = "a link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise Refused(f"{'/'.join(inner)} is {kind}; only files and folders are accepted")


def materialise(path: Path, dest: Path, limits: SubmissionLimits | None = None) -> Submission:
    """Copy a submission into ``dest`` (readable by the jails) and name it; Refused says why not."""
    path = path.parent.resolve() / path.name  # the instructor's own path to it; its last part is the learner's
    dest.mkdir(parents=True)
    try:
        _take_in(path, dest, Budget(limits or SubmissionLimits()))
    except OSError as exc:  # unreadable, vanished, or a link where a file should be
        raise Refused(f"{path.name} could not be read ({exc.strerror or exc})") from None
    (dest / "labs").mkdir(exist_ok=True)
    _readable(dest)
    return Submission(submission_name(path), dest / "labs")


def compile_lessons(labs: Path, packages: Collection[str]) -> None:
    """Compile the lessons about to be graded, as root: jails cannot write bytecode, and would compile them per host.

    Compiling runs no code. Only what is graded is compiled: a lesson the cache answers, or the
    similarity report's own copy, never needs bytecode.
    """
    compileall.compile_dir(labs, maxlevels=0, quiet=2)  # labs/__init__.py and its like
    for package in packages:
        compileall.compile_dir(labs / package, quiet=2)
    for made in (labs / "__pycache__", *(labs / package for package in packages)):
        if made.is_dir() and not made.is_symlink():
            _readable(made)


def _readable(root: Path) -> None:
    """Everything under ``root`` readable by the jails and writable by root alone."""
    for item in [root, *root.rglob("*")]:
        item.chmod(0o755 if item.is_dir() else 0o644)


def _take_in(path: Path, dest: Path, budget: Budget) -> None:
    if path.suffix == ".zip" or (path.is_file() and not path.is_symlink()):
        _unpack(path, dest, budget)
    else:
        if path.is_symlink():
            raise Refused(f"{path.name} is a link; hand in the folder itself")
        labs = path / "labs" if (path / "labs").is_dir() and not (path / "labs").is_symlink() else path
        if (path / "labs").is_symlink():
            raise Refused("labs is a link; hand in the folder itself")
        if not labs.is_dir():
            raise Refused(f"{path.name} is neither a zip nor a folder holding labs/")
        _copy_directory(labs, dest, budget)
