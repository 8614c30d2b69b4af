"""How a forked child becomes a sandbox for learner code.

The child gets its own session, its own output file, resource limits (CPU time,
memory, processes, file size, open files), a scrubbed environment with a temporary
HOME and, when the grader runs as root, its own network namespace and a uid of its
own. A uid per sandbox makes the process limit per sandbox and lets the grader
kill every process the learner started, wherever it went.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NoReturn

CLONE_NEWNET = 0x40000000
FIRST_UID = 61000
UID_COUNT = 1000
# What the learner's process may see of the environment; no secrets, no service URLs.
PASSED_ENV = ("LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 30
    memory_bytes: int = 2 * 1024**3
    processes: int = 64
    file_bytes: int = 16 * 1024**2
    open_files: int = 256

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def is_root() -> bool:
    return os.geteuid() == 0


def _unshare_network() -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.unshare(CLONE_NEWNET) == 0


def enter(workdir: Path, tree: Path, uid: int | None, limits: Limits, env: dict[str, str]) -> None:
    """Turn the calling (freshly forked) process into a sandbox. Never returns on failure."""
    try:
        os.setsid()
        log = os.open(workdir / "output.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.closerange(3, 65536)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - lives as long as the process
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        if uid is not None and not _unshare_network():
            raise OSError("could not create a network namespace")
        for name, value in (
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_NPROC, limits.processes),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(name, (value, value))
        os.chdir(tree)
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        kept = {key: os.environ[key] for key in PASSED_ENV if key in os.environ}
        os.environ.clear()
        os.environ.update(kept)
        os.environ.update(
            PATH=os.path.dirname(sys.executable) + ":/usr/bin:/bin",
            HOME=str(workdir),
            TMPDIR=str(workdir),
            PYTHONDONTWRITEBYTECODE="1",
            COURSE_ROOT=str(tree),
            COURSE_MODE="embedded",
        )
        os.environ.update(env)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    except BaseException as exc:  # noqa: BLE001 - a half-built sandbox must never run learner code
        os.write(2, f"sandbox set-up failed: {exc!r}\n".encode())
        os._exit(70)


def grant(paths: list[Path], uid: int) -> None:
    """Give ``uid`` the directories ``paths`` and everything in them.

    A sandbox that wrote there before may have left links to files it must not own,
    so links are changed themselves, never followed.
    """
    for path in paths:
        os.chown(path, uid, uid, follow_symlinks=False)
        for directory, subdirectories, files in os.walk(path):
            for name in subdirectories + files:
                os.chown(os.path.join(directory, name), uid, uid, follow_symlinks=False)


def run_and_exit(work: Callable[[], object]) -> NoReturn:
    """In a freshly forked child: run ``work``, then end the child with its exit code.

    The child never returns into its parent's loop, whatever ``work`` raises.
    """
    code = 0
    try:
        work()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - report, then leave
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def processes_of(uid: int) -> list[int]:
    """Every living process that runs as ``uid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        # A zombie is already dead; only its parent's wait removes it.
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
            found.append(int(entry.name))
    return found


def kill_all(uid: int | None, pgid: int | None = None, rounds: int = 50) -> None:
    """Kill a sandbox: its process group, and with a uid of its own, every process of that uid."""
    for _ in range(rounds):
        pids = processes_of(uid) if uid is not None else []
        if pgid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not pids:
            return
        time.sleep(0.01)
