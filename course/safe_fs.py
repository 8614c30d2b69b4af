"""File operations for root in places a learner can write: no link is followed, nothing waits, all is bounded.

The grader runs as root and reads what sandboxes wrote (logs, databases) and what
learners handed in. A learner can put a link, a FIFO or a device where a file is
expected, or swap one in between two steps. So every file is opened with
``O_NOFOLLOW | O_NONBLOCK``, checked with ``fstat`` on the open descriptor, and read or
written through it, within a size limit. New files are created with ``O_EXCL`` in
directories the caller trusts. Trees are walked through directory descriptors, one
level at a time, so depth costs no recursion.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

NOFOLLOW = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
CHUNK = 1 << 16


class UnsafeFile(OSError):
    """A path that is not what it should be: a link, a FIFO, a device, or too large."""


def open_regular(path: str | Path, *, dir_fd: int | None = None) -> int:
    """A read descriptor on a regular file at ``path``, refusing links and special files."""
    descriptor = os.open(path, os.O_RDONLY | NOFOLLOW, dir_fd=dir_fd)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise UnsafeFile(f"{path} is not a regular file")
    return descriptor


def read_bounded(path: str | Path, limit: int, *, dir_fd: int | None = None) -> bytes:
    """The whole of a regular file, or UnsafeFile when it is larger than ``limit`` bytes."""
    descriptor = open_regular(path, dir_fd=dir_fd)
    with open(descriptor, "rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise UnsafeFile(f"{path} is larger than {limit} bytes")
    return data


def read_tail(path: str | Path, limit: int) -> str:
    """The last ``limit`` bytes of a regular file as text; "" for anything else (a link, a FIFO, nothing)."""
    try:
        descriptor = open_regular(path)
    except OSError:
        return ""
    with open(descriptor, "rb") as file:
        size = os.fstat(descriptor).st_size
        file.seek(max(0, size - limit))
        return file.read(limit).decode(errors="replace")


def read_directory(path: str | Path, *, file_limit: int = 1 << 20, count_limit: int = 200) -> dict[str, bytes]:
    """The regular files directly in ``path``, name → content: links, FIFOs and subfolders are left out."""
    found: dict[str, bytes] = {}
    with open_directory(path) as descriptor, os.scandir(descriptor) as entries:
        for entry in entries:
            if len(found) >= count_limit:
                break
            try:
                found[entry.name] = read_bounded(entry.name, file_limit, dir_fd=descriptor)
            except OSError:  # not a regular file, too large, or gone: not the app's answer
                continue
    return dict(sorted(found.items()))


def write_new(directory: int, name: str, data: bytes, *, owner: int | None = None, mode: int = 0o600) -> None:
    """Create ``name`` in the directory open as ``directory``; it must not exist (no link is followed)."""
    descriptor = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, mode, dir_fd=directory)
    try:
        if owner is not None:
            os.fchown(descriptor, owner, owner)
        with open(descriptor, "wb", closefd=False) as file:
            file.write(data)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def open_directory(path: str | Path, *, dir_fd: int | None = None) -> Iterator[int]:
    """A descriptor on the directory at ``path``, which must not be a link."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW, dir_fd=dir_fd)
    try:
        yield descriptor
    finally:
        os.close(descriptor)


def make_directory(path: Path, *, mode: int = 0o700, owner: int | None = None) -> None:
    """Create a new directory (never one that exists) and, before anyone else can use it, give it to ``owner``."""
    path.mkdir(mode=mode)
    if owner is not None:
        with open_directory(path) as descriptor:
            os.fchown(descriptor, owner, owner)


def replace_file(directory: Path, name: str, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``name`` in a directory only the caller can write, atomically: a reader never sees half of it."""
    temporary = directory / f".{name}.new"
    temporary.unlink(missing_ok=True)
    with open_directory(directory) as descriptor:
        write_new(descriptor, temporary.name, data, mode=mode)
    temporary.replace(directory / name)


def remove_tree(path: Path) -> None:
    """Remove ``path`` and all in it, however deep or wide, without following a link or recursing.

    A learner may have left a 1,500-deep chain of directories or hundreds of thousands
    of entries; both cost time in proportion to their size here, never the interpreter's stack.
    """
    try:
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW)
    except FileNotFoundError:
        return
    except NotADirectoryError:
        path.unlink(missing_ok=True)
        return
    # Each level: its descriptor, its name in the level below, and where its listing has got to.
    stack: list[tuple[int, str, Iterator[os.DirEntry[str]]]] = [(top, "", os.scandir(top))]
    while stack:
        descriptor, name, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            os.close(descriptor)
            if stack:
                with contextlib.suppress(OSError):  # a mount point, say: it stays
                    os.rmdir(name, dir_fd=stack[-1][0])
            continue
        if not entry.is_dir(follow_symlinks=False):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.name, dir_fd=descriptor)
            continue
        try:
            inner = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW, dir_fd=descriptor)
        except OSError:  # swapped for a file or a link meanwhile
            with contextlib.suppress(OSError):
                os.unlink(entry.name, dir_fd=descriptor)
            continue
        stack.append((inner, entry.name, os.scandir(inner)))
    with contextlib.suppress(OSError):
        path.rmdir()
