"""A pre-warmed fork server for sandboxes.

Starting Python and importing FastAPI costs most of a lab's start-up. The zygote
imports the course's dependencies once, then forks a sandbox per request: the
child enters the sandbox (``sandbox.enter``) before it loads any learner code.
The zygote speaks JSON lines on a unix socket that only its owner can open; it is
single-threaded, so forking is safe.

Requests: ``spawn`` (a lab host, see ``lab_host``), ``grant``,
``status``, ``kill``, ``kill_owner``. Only trusted code (the grader and its checks) talks to it.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import selectors
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import SOCKET_ENV
from .sandbox import FIRST_UID, UID_COUNT, Limits, enter, grant, is_root, kill_all, run_and_exit

READY_ENV = "COURSE_GRADE_READY"  # a file that exists once the zygote answers
UID_LOCKS = Path(tempfile.gettempdir()) / "course-sandbox-uids"
LOG_TAIL = 4000
REQUEST_TIMEOUT = 30.0
PREWARMED = (
    "fastapi", "starlette.applications", "pydantic", "pydantic_settings", "sqlmodel", "sqlalchemy",
    "httpx", "anyio", "uvicorn", "uvicorn.protocols.http.h11_impl", "uvicorn.lifespan.on",
    "asgi_lifespan", "alembic.config", "alembic.command", "alembic.autogenerate", "alembic.runtime.migration",
    "course.harness", "course.resources", "course.grading.lab_host",
)  # fmt: skip
# Never imported ahead: they open windows or browsers, or are not for this platform.
STDLIB_SKIPPED = frozenset({
    "antigravity", "this", "tkinter", "turtle", "turtledemo", "idlelib", "lib2to3", "pydoc_data",
    "ensurepip", "venv", "test", "__main__", "msvcrt", "winreg", "winsound", "nt", "msilib",
})  # fmt: skip


def prewarm() -> None:
    """Import the course's dependencies and the whole standard library once, before any fork.

    Besides speed, this matters where the interpreter lives in a directory the sandbox
    user cannot enter (a pyenv under /root): sandboxes then never read it themselves.
    """
    import importlib
    import pkgutil
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Private modules come in through their public ones; importing _asyncio first
        # would break asyncio's task tracking.
        for name in sorted(name for name in sys.stdlib_module_names - STDLIB_SKIPPED if not name.startswith("_")):
            with contextlib.suppress(Exception):
                module = importlib.import_module(name)
                for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=f"{name}."):
                    parts = set(info.name.split("."))
                    if not (STDLIB_SKIPPED | {"__main__"}) & parts and ".test" not in info.name:
                        with contextlib.suppress(Exception):
                            importlib.import_module(info.name)
        for name in PREWARMED:
            importlib.import_module(name)


@dataclass
class Sandbox:
    pid: int
    uid: int | None
    workdir: Path
    owner: str
    exit: int | None = None


def log_tail(path: Path) -> str:
    """The end of a sandbox's log file.

    The sandbox owns its directory and may have swapped the log for a link to a secret
    or a FIFO that blocks: only a regular file is read, and no link is followed.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    with open(descriptor, "rb") as log:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return ""
        log.seek(0, os.SEEK_END)
        log.seek(max(0, log.tell() - LOG_TAIL))
        return log.read().decode(errors="replace")


class Server:
    def __init__(self, path: Path, work: Path, limits: Limits) -> None:
        self.path, self.work, self.limits = path, work, limits
        self.sandboxes: dict[int, Sandbox] = {}
        self.uid_locks: dict[int, int] = {}
        self.spawned = 0

    def serve(self) -> None:
        prewarm()
        # Forked children share the warm heap copy-on-write; a collection in one would
        # write to every object it scans and copy the lot.
        gc.freeze()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        os.chmod(self.path, 0o600)
        listener.listen(64)
        print("ready", flush=True)
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ)
        while True:
            for _ in selector.select(timeout=0.2):
                connection, _ = listener.accept()
                with connection:
                    self._answer(connection)
            self._reap()

    def _answer(self, connection: socket.socket) -> None:
        connection.settimeout(REQUEST_TIMEOUT)
        with connection.makefile("rwb") as stream:
            line = stream.readline()
            if not line:  # someone looked whether the server listens
                return
            op = ""
            try:
                request = json.loads(line)
                op = request.pop("op")
                reply = getattr(self, f"op_{op}")(**request)
            except Exception as exc:  # noqa: BLE001 - a bad request must not stop the server
                reply = {"error": repr(exc)}
            stream.write(json.dumps(reply).encode() + b"\n")
            stream.flush()
        if op == "shutdown":
            raise SystemExit(0)

    def _reap(self) -> None:
        for sandbox in self.sandboxes.values():
            if sandbox.exit is None:
                with contextlib.suppress(ChildProcessError):
                    pid, status = os.waitpid(sandbox.pid, os.WNOHANG)
                    if pid:
                        sandbox.exit = os.waitstatus_to_exitcode(status)

    def op_spawn(
        self,
        tree: str,
        owner: str,
        lesson: str = "",
        env: dict[str, str] | None = None,
        writable: list[str] | None = None,
    ) -> dict[str, Any]:
        """A sandboxed lab host (``lab_host``) of ``lesson`` under ``env``; "" imports no lab."""
        self.spawned += 1
        uid = self._claim_uid() if is_root() else None
        workdir = self.work / f"sandbox-{self.spawned}"
        workdir.mkdir(mode=0o700)
        if uid is not None:
            kill_all(uid)  # a previous holder of this uid leaves nothing behind
            grant([workdir, *map(Path, writable or [])], uid)
        pid = os.fork()
        if pid == 0:

            def host() -> None:
                enter(workdir, Path(tree), uid, self.limits, env or {})
                from .lab_host import run

                run(lesson, str(workdir), env or {})

            run_and_exit(host)
        self.sandboxes[pid] = Sandbox(pid, uid, workdir, owner)
        return {"pid": pid, "uid": uid, "workdir": str(workdir)}

    def _claim_uid(self) -> int:
        """A uid no other sandbox on this machine holds, even one of another grader's zygote."""
        UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
        for offset in range(UID_COUNT):
            uid = FIRST_UID + (self.spawned + offset) % UID_COUNT
            lock = os.open(UID_LOCKS / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(lock)
                continue
            self.uid_locks[uid] = lock
            return uid
        raise RuntimeError(f"all {UID_COUNT} sandbox uids are in use")

    def _release(self, sandbox: Sandbox) -> None:
        if sandbox.uid is not None and (lock := self.uid_locks.pop(sandbox.uid, None)) is not None:
            os.close(lock)

    def op_grant(self, pid: int, paths: list[str]) -> dict[str, Any]:
        """Let a running sandbox write to more directories (a database a check made for it)."""
        uid = self.sandboxes[pid].uid
        if uid is not None:
            grant(list(map(Path, paths)), uid)
        return {"granted": len(paths)}

    def op_status(self, pid: int) -> dict[str, Any]:
        self._reap()
        sandbox = self.sandboxes[pid]
        return {"alive": sandbox.exit is None, "exit": sandbox.exit, "log": log_tail(sandbox.workdir / "output.log")}

    def op_kill(self, pid: int) -> dict[str, Any]:
        sandbox = self.sandboxes.pop(pid)
        kill_all(sandbox.uid, sandbox.pid)
        if sandbox.exit is None:
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(sandbox.pid, 0)
                sandbox.exit = os.waitstatus_to_exitcode(status)
        reply = {"exit": sandbox.exit, "log": log_tail(sandbox.workdir / "output.log")}
        shutil.rmtree(sandbox.workdir, ignore_errors=True)
        self._release(sandbox)
        return reply

    def op_kill_owner(self, owner: str) -> dict[str, Any]:
        pids = [pid for pid, sandbox in self.sandboxes.items() if sandbox.owner == owner]
        for pid in pids:
            self.op_kill(pid)
        return {"killed": len(pids)}

    def op_shutdown(self) -> dict[str, Any]:
        for pid in list(self.sandboxes):
            self.op_kill(pid)
        return {"shutdown": True}


class Client:
    """The trusted side's handle on a running zygote."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)

    def request(self, op: str, **fields: Any) -> dict[str, Any]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(REQUEST_TIMEOUT)
            connection.connect(self.path)
            with connection.makefile("rwb") as stream:
                stream.write(json.dumps({"op": op, **fields}).encode() + b"\n")
                stream.flush()
                reply: dict[str, Any] = json.loads(stream.readline())
        if "error" in reply:
            raise RuntimeError(f"zygote {op} failed: {reply['error']}")
        return reply


class Zygote:
    """Start and stop a zygote process for one grading run."""

    def __init__(self, work: Path, limits: Limits) -> None:
        self.work, self.limits = work, limits
        self.path = work / "zygote.sock"
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> Client:
        self.launch()
        return self.wait_ready()

    def launch(self) -> None:
        """Start the zygote; its imports take a second, so other start-up can go on meanwhile."""
        self.work.mkdir(parents=True, exist_ok=True)
        os.chmod(self.work, 0o711)  # sandboxes may pass through to their own dirs, not list them
        command = [sys.executable, "-P", "-m", "course.grading.zygote", str(self.path), str(self.work)]
        command.append(json.dumps(self.limits.as_dict()))
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)

    def wait_ready(self) -> Client:
        assert self.process is not None and self.process.stdout is not None
        line = self.process.stdout.readline()  # "ready" once its imports are done, "" if it died
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError("the grading zygote did not start")
        return Client(self.path)

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(OSError, RuntimeError):
            Client(self.path).request("shutdown")
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self.process = None


def main() -> None:  # pragma: no cover - runs as its own process
    path, work, limits = sys.argv[1], Path(sys.argv[2]), Limits(**json.loads(sys.argv[3]))
    Server(Path(path), work, limits).serve()


if __name__ == "__main__":  # pragma: no cover
    main()
