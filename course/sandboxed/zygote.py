"""A pre-warmed fork server for jails.

Starting Python and importing FastAPI costs most of a lab's start-up. The zygote
imports the course's dependencies once, then forks a jailed lab host per request:
the child enters its jail (``jail.enter``) before it loads any learner code. The
trusted side starts the zygote with a clean ``execve`` and an explicit environment, so
no jail can find the instructor's environment in the memory it inherits.

Jails belong to owners: an owner is one lesson of one submission, with its public or
its hidden checks. Each owner gets a uid of its own and a directory of its own (a
size- and inode-limited tmpfs when the machine allows), which all its jails may
write and nobody else's can see. Closing an owner kills every process of its uid and
detaches its tmpfs, however many files it holds.

Requests (``course.protocol``): ``isolation``, ``open_owner``, ``spawn``, ``status``,
``kill``, ``close_owner``, ``shutdown``. The socket is root's alone; the zygote is
single-threaded, so forking is safe, and no request can stop it.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import re
import selectors
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..check_forks import pytest_modules
from ..config import SandboxLimits
from ..protocol import serve_connection
from ..safe_fs import make_directory, read_tail, remove_tree
from .cgroups import Layout, OwnerCgroup
from .jail import (
    FIRST_UID,
    UID_COUNT,
    Isolation,
    JailSpec,
    enter,
    kill_all,
    mount_tmpfs,
    probe,
    processes_of,
    run_and_exit,
    unmount,
)

UID_LOCKS = (
    Path("/run" if os.geteuid() == 0 and os.path.isdir("/run") else tempfile.gettempdir()) / "course-sandbox-uids"
)
LOG_TAIL = 4000
REQUEST_TIMEOUT = 30.0
SAFE_OWNER = re.compile(r"^[\w.:/-]{1,200}$")
PREWARMED = (
    "fastapi",
    "starlette.applications",
    "pydantic",
    "pydantic_settings",
    "sqlmodel",
    "sqlalchemy",
    "httpx",
    "anyio",
    "uvicorn",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.lifespan.on",
    "asgi_lifespan",
    "alembic.config",
    "alembic.command",
    "alembic.autogenerate",
    "alembic.runtime.migration",
    "course.harness",
    "course.resources",
    "course.sandboxed.lab_host",
    "course.sandboxed.app_runner",
    "course.sandboxed.sql_server",
    "jwt",
    "pwdlib",
    "itsdangerous",
    "multipart",
    "course.sql_gateway",
    "redis.asyncio",
    "fakeredis",
    "celery",
    "uvicorn.protocols.websockets.wsproto_impl",
)
# Never imported ahead: they open windows or browsers, or are not for this platform.
STDLIB_SKIPPED = frozenset(
    {
        "antigravity",
        "this",
        "tkinter",
        "turtle",
        "turtledemo",
        "idlelib",
        "lib2to3",
        "pydoc_data",
        "ensurepip",
        "venv",
        "test",
        "__main__",
        "msvcrt",
        "winreg",
        "winsound",
        "nt",
        "msilib",
    }
)


def prewarm(whole_stdlib: bool) -> None:
    """Import the course's dependencies (and, for jails that cannot read the interpreter's files, the stdlib)."""
    import importlib
    import pkgutil
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Private modules come in through their public ones; importing _asyncio first
        # would break asyncio's task tracking.
        stdlib = sorted(name for name in sys.stdlib_module_names - STDLIB_SKIPPED if not name.startswith("_"))
        for name in stdlib if whole_stdlib else ():
            with contextlib.suppress(Exception):
                module = importlib.import_module(name)
                for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=f"{name}."):
                    parts = set(info.name.split("."))
                    if not (STDLIB_SKIPPED | {"__main__"}) & parts and ".test" not in info.name:
                        with contextlib.suppress(Exception):
                            importlib.import_module(info.name)
        # A learner's tests (the testing lesson) run pytest in a jail: with it warm, no run re-imports it,
        # nor rewrites anyio's plugin and backends, which pytest would otherwise do each time.
        for name in (*PREWARMED, *pytest_modules()):
            importlib.import_module(name)


@dataclass
class Jail:
    """A jail the zygote forked (a lab host, or a database gateway): its process, cgroup and directory."""

    pid: int
    owner: str
    workdir: Path
    exit: int | None = None
    cgroup: OwnerCgroup | None = None


@dataclass
class Owner:
    """One lesson of one submission (public or hidden checks): a uid and a directory of its own."""

    name: str
    uid: int | None
    directory: Path
    mounted: bool
    cgroup: OwnerCgroup | None = None
    jails: list[int] = field(default_factory=list)
    gateway_uid: int | None = None  # the uid its database gateways run as: not the learner's


def session_members(session: int) -> list[int]:
    """Processes whose session is ``session`` (a host and all it started, in whatever process group)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[3]) == session:
                    found.append(int(entry.name))
    return found


class Zygote:
    def __init__(self, path: Path, work: Path, limits: SandboxLimits) -> None:
        self.path, self.work, self.limits = path, work, limits
        self.staging = work / "root"  # each jail mounts its new root here, in its own namespace
        self.isolation = Isolation()
        self.jails: dict[int, Jail] = {}
        self.owners: dict[str, Owner] = {}
        self.uid_locks: dict[int, int] = {}
        self.counter = 0
        self.cgroups: Layout | None = None

    def serve(self) -> None:
        self.staging.mkdir(mode=0o700, exist_ok=True)
        (self.work / "owners").mkdir(mode=0o711, exist_ok=True)
        self.cgroups = Layout.detect(f"course-grade-{os.getpid()}")
        self.isolation = probe(self.staging, self.limits, cgroups=self.cgroups is not None)
        prewarm(whole_stdlib=not self.isolation.namespaces)
        # Forked children share the warm heap copy-on-write; a collection in one would
        # write to every object it scans and copy the lot.
        gc.freeze()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        os.chmod(self.path, 0o600)
        listener.listen(64)
        print("ready", json.dumps(self.isolation.__dict__), flush=True)
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped from outside: still clean up
        try:
            while True:
                for _ in selector.select(timeout=0.2):
                    connection, _ = listener.accept()
                    with connection:
                        if serve_connection(connection, self, REQUEST_TIMEOUT) == "shutdown":
                            return
                self._reap()
        finally:
            self.op_shutdown()  # no owner outlives the zygote, whatever stopped it

    def _reap(self, killed: int | None = None) -> None:
        """Collect the exit codes of hosts that ended; wait for ``killed``, just killed, and forget it."""
        if killed is not None:
            jail = self.jails.pop(killed, None)
            if jail is not None and jail.exit is None:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(killed, 0)
            return
        for jail in self.jails.values():
            if jail.exit is None:
                with contextlib.suppress(ChildProcessError):
                    pid, status = os.waitpid(jail.pid, os.WNOHANG)
                    if pid:
                        jail.exit = os.waitstatus_to_exitcode(status)

    # --- owners ------------------------------------------------------------------------------

    def op_isolation(self) -> dict[str, Any]:
        return {**self.isolation.__dict__, "shortfalls": self.isolation.shortfalls}

    def op_open_owner(self, owner: str) -> dict[str, Any]:
        """A uid and a directory for ``owner``'s jails; the same again if it is open already."""
        if not SAFE_OWNER.match(owner):
            raise ValueError(f"bad owner name {owner!r}")
        if owner not in self.owners:
            self.counter += 1
            uid = self._claim_uid() if self.isolation.own_uid else None
            directory = self.work / "owners" / f"o{self.counter}"
            directory.mkdir(mode=0o711)
            found = self.owners[owner] = Owner(owner, uid, directory, mounted=False)
            try:
                if self.isolation.namespaces:
                    mount_tmpfs(directory, self.limits)
                    found.mounted = True
                if self.cgroups:
                    found.cgroup = OwnerCgroup.create(self.cgroups, f"o{self.counter}", self.limits)
            except BaseException:  # half made: undo what was done, so that nothing is left mounted or claimed
                self.op_close_owner(owner)
                raise
        found = self.owners[owner]
        return {"uid": found.uid, "directory": str(found.directory)}

    def op_close_owner(self, owner: str) -> dict[str, Any]:
        """Kill every process of the owner, and remove everything it wrote."""
        found = self.owners.pop(owner, None)
        if found is None:
            return {"closed": 0}
        try:
            self._kill_owner(found)
        finally:  # forgotten now, so whatever the killing met, its tmpfs and uids are let go here or never
            if not (found.mounted and unmount(found.directory)):
                remove_tree(found.directory)
            with contextlib.suppress(OSError):
                found.directory.rmdir()
            self._release(found.uid)  # the next to claim a uid kills what it still runs first
            self._release(found.gateway_uid)
        return {"closed": len(found.jails)}

    def _kill_owner(self, found: Owner) -> None:
        if found.cgroup is not None:
            found.cgroup.kill()  # all the owner started is in its cgroup, frozen first: a fork bomb dies in one sweep
            for pid in found.jails:
                self._reap(pid)
            found.cgroup.remove()
        else:
            for pid in found.jails:
                self._forget_jail(pid)
        for uid in (found.uid, found.gateway_uid):
            if uid is not None and processes_of(uid):  # nothing should be left; if it is, it goes now
                kill_all(uid)

    def _claim_uid(self) -> int:
        """A uid no other jail on this machine holds, even one of another grader's zygote."""
        UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
        for offset in range(UID_COUNT):
            uid = FIRST_UID + (self.counter + offset) % UID_COUNT
            lock = os.open(UID_LOCKS / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(lock)
                continue
            self.uid_locks[uid] = lock
            kill_all(uid)  # a previous holder of this uid leaves nothing behind
            return uid
        raise RuntimeError(f"all {UID_COUNT} sandbox uids are in use")

    def _release(self, uid: int | None) -> None:
        if uid is not None and (lock := self.uid_locks.pop(uid, None)) is not None:
            os.close(lock)

    # --- hosts -------------------------------------------------------------------------------

    def op_spawn(
        self, owner: str, tree: str, labs: str, lesson: str = "", env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A jailed lab host (``lab_host``) of ``lesson`` under ``env``; "" imports no lab."""
        found = self.owners[owner]
        self.counter += 1
        workdir = found.directory / f"host-{self.counter}"
        make_directory(workdir, owner=found.uid)  # new and empty: given away before any learner code runs
        cgroup = found.cgroup.child(workdir.name) if found.cgroup else None
        spec = JailSpec(
            workdir=workdir,
            tree=Path(tree),
            labs=Path(labs),
            writable=(found.directory,),
            uid=found.uid,
            limits=self.limits,
            env=dict(env or {}),
            isolation=self.isolation,
            staging=self.staging,
            cgroups=cgroup.directories if cgroup else (),
        )
        pid = os.fork()
        if pid == 0:

            def host() -> None:
                enter(spec)
                from .lab_host import run

                run(lesson, str(workdir), dict(env or {}))

            run_and_exit(host)
        self.jails[pid] = Jail(pid, owner, workdir, cgroup=cgroup)
        found.jails.append(pid)
        return {"pid": pid, "uid": found.uid, "workdir": str(workdir)}

    def op_sql_gateway(self, owner: str) -> dict[str, Any]:
        """A database gateway for ``owner``'s apps (``sql_server``): a jail of its own, as a uid of its own."""
        found = self.owners[owner]
        if found.gateway_uid is None and self.isolation.own_uid:
            found.gateway_uid = self._claim_uid()
        self.counter += 1
        directory = found.directory / f"sql-{self.counter}"
        make_directory(directory, mode=0o755, owner=found.gateway_uid)  # apps may enter, not write
        cgroup = found.cgroup.child(directory.name) if found.cgroup else None
        spec = JailSpec(
            workdir=directory,
            tree=directory,
            labs=None,
            writable=(directory,),
            uid=found.gateway_uid,
            limits=self.limits,
            isolation=self.isolation,
            staging=self.staging,
            cgroups=cgroup.directories if cgroup else (),
        )
        pid = os.fork()
        if pid == 0:

            def gateway() -> None:
                enter(spec)
                from .sql_server import run

                run(directory)

            run_and_exit(gateway)
        self.jails[pid] = Jail(pid, owner, directory, cgroup=cgroup)
        found.jails.append(pid)
        return {"pid": pid, "uid": found.gateway_uid, "directory": str(directory)}

    def op_status(self, pid: int) -> dict[str, Any]:
        self._reap()
        jail = self.jails[pid]
        return {"alive": jail.exit is None, "exit": jail.exit, "log": read_tail(jail.workdir / "output.log", LOG_TAIL)}

    def op_kill(self, pid: int) -> dict[str, Any]:
        """Kill one host and everything it started (its whole session); the owner's other hosts go on."""
        jail = self.jails.get(pid)
        if jail is None:
            return {"exit": None, "log": ""}
        self._forget_jail(pid)
        return {"exit": jail.exit, "log": read_tail(jail.workdir / "output.log", LOG_TAIL)}

    def _forget_jail(self, pid: int) -> None:
        jail = self.jails.pop(pid, None)
        if jail is None:
            return
        if jail.cgroup is not None:  # all the host started is in its cgroup: no need to look for it
            jail.cgroup.remove()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(jail.pid, 0)
            return
        for _ in range(50):
            members = session_members(pid)
            for member in [pid, *members]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(member, 9)
            if not members:
                break
        if jail.exit is None:
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(jail.pid, 0)
                jail.exit = os.waitstatus_to_exitcode(status)

    def op_shutdown(self) -> dict[str, Any]:
        for owner in list(self.owners):
            with contextlib.suppress(Exception):
                self.op_close_owner(owner)
        if self.cgroups is not None:
            self.cgroups.remove()
        return {"shutdown": True}


def uids_in_use() -> list[int]:
    """Sandbox uids with a living process (for tests: none may outlive a grading run)."""
    return [uid for uid in range(FIRST_UID, FIRST_UID + UID_COUNT) if processes_of(uid)]


def mounts_under(*directories: Path) -> list[str]:
    """This process's mount points inside any of ``directories`` (for tests: none may outlive its owner)."""
    points = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    return [point for point in points if any(point.startswith(f"{directory}/") for directory in directories)]


def main() -> None:  # pragma: no cover - runs as its own process
    path, work, limits = sys.argv[1], Path(sys.argv[2]), SandboxLimits(**json.loads(sys.argv[3]))
    Zygote(Path(path), work, limits).serve()


if __name__ == "__main__":  # pragma: no cover
    main()
