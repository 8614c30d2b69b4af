"""A warm process that forks one ``python -m MODULE`` run (pytest, by default) per request.

``course check`` starts a fresh ``python -m pytest`` for every run, and so pays for
importing pytest, FastAPI, SQLAlchemy and the rest each time: more than a CPU-second.
Check strength runs the checks of some 400 implementations, and lesson 11's checks run
a learner's tests once per planted bug, so they ask this server instead, which imports
those libraries once and forks a child per run. To the run a child is a fresh process:
its own working directory, environment, time zone, process group and output file, and
no module of the course imported before it starts.

The protocol is one JSON object per line: on stdin ``{"id", "argv", "cwd", "env",
"output"}`` (and ``"module"`` unless it is pytest) starts a run and ``{"kill": id}``
stops one; on stdout ``{"id", "code"}`` says that a run has ended.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import json
import os
import runpy
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import IO, Any, NoReturn

# Imported once by the server, so that no child pays for them. Nothing of the course:
# its modules read the environment, which only the child knows.
WARM_MODULES = (
    "pytest",
    "pytest_timeout",
    "anyio",
    "anyio.pytest_plugin",
    "httpx",
    "asgi_lifespan",
    "fastapi",
    "fastapi.security",
    "pydantic",
    "pydantic_settings",
    "sqlalchemy",
    "sqlmodel",
    "redis.asyncio",
    "fakeredis",
    "celery",
    "jwt",
    "pwdlib",
    "jinja2",
    "alembic.config",
    "alembic.command",
    "httpcore",
    "httpx_ws",
    "wsproto",
    "pydantic.v1",  # FastAPI looks for v1 models in every annotation
    "sqlite3",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "argon2",
    "pwdlib.hashers.argon2",
    "starlette.middleware.cors",
    "starlette.middleware.gzip",
    "starlette.middleware.trustedhost",
    "starlette.staticfiles",
    "starlette.templating",
    "prometheus_client",
    "uvicorn",
    "kombu",
)
POLL = 0.05
KILL_GRACE = 5.0


# --- the server ----------------------------------------------------------------------------------------


def _warm() -> None:
    from _pytest.config import default_plugins

    for name in (*WARM_MODULES, *(f"_pytest.{plugin}" for plugin in default_plugins)):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    # Whatever the warm imports made lives as long as the server: out of the collector's sight, a
    # child's collections (pytest forces several at its end) no longer walk, and so copy, every page of it.
    gc.collect()
    gc.freeze()


def _run_child(request: dict[str, Any]) -> NoReturn:
    """In the forked child: become a fresh pytest process as the request describes, run, and exit."""
    code = 3
    try:
        os.setpgid(0, 0)  # a group of its own, so that a kill reaches whatever the checks started
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # only stdin, stdout and stderr, as a new process has
        output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        nothing = os.open(os.devnull, os.O_RDONLY)
        os.dup2(nothing, 0)
        os.close(nothing)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", line_buffering=True)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        sys.path[0] = request["cwd"]  # as `python -m pytest` run there would have it
        module = request.get("module", "pytest")
        if module == "pytest":
            import pytest

            code = int(pytest.main(list(request["argv"])))
        else:
            sys.argv = [module, *request["argv"]]
            runpy.run_module(module, run_name="__main__", alter_sys=True)
            code = 0
    except SystemExit as exit:  # as the interpreter maps it: None → 0, a number → itself, else 1
        code = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
        if not isinstance(exit.code, int | None):
            print(exit.code, file=sys.stderr)
    except BaseException:  # whatever happens, the parent hears an exit code
        code = 1
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    os._exit(code)


def serve(requests: IO[bytes], replies: IO[str]) -> None:
    """Fork a child per request until ``requests`` closes and every child has ended."""
    children: dict[int, int] = {}  # pid → request id
    pending = b""
    reading = True
    while reading or children:
        ready, _, _ = select.select([requests] if reading else [], [], [], POLL)
        if ready:
            chunk = os.read(requests.fileno(), 65536)
            if not chunk:
                reading = False
                for pid in children:  # the client is gone: nobody will read these results
                    _kill_group(pid)
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                if "kill" in request:
                    for pid, number in children.items():
                        if number == request["kill"]:
                            _kill_group(pid)
                    continue
                pid = os.fork()
                if pid == 0:
                    _run_child(request)
                children[pid] = request["id"]
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            if pid in children:
                number = children.pop(pid)
                replies.write(json.dumps({"id": number, "code": os.waitstatus_to_exitcode(status)}) + "\n")
                replies.flush()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def main() -> None:
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # stray prints from the warm imports must not garble the replies
    _warm()
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    serve(sys.stdin.buffer, replies)


# --- the client ----------------------------------------------------------------------------------------


class ForkedRun:
    """A run of pytest in a child of the server: ``done()``, ``result()`` and ``kill()``."""

    def __init__(self, forks: CheckForks, number: int, output: Path) -> None:
        self._forks, self.number, self.output = forks, number, output
        self.ended: Future[int] = Future()

    def done(self) -> bool:
        return self.ended.done()

    def result(self) -> tuple[int, str]:
        code = self.ended.result()
        try:
            return code, self.output.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return code, ""

    def kill(self) -> None:
        self._forks.send({"kill": self.number})
        try:
            self.ended.result(timeout=KILL_GRACE)
        except TimeoutError:
            self.ended.set_result(-9)


class CheckForks:
    """The client of a server started for this object: ``start(argv, cwd, env, output)`` runs pytest."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "course.check_forks"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._stdin, self._stdout = self._process.stdin, self._process.stdout
        self._lock = threading.Lock()
        self._runs: dict[int, ForkedRun] = {}
        self._numbers = iter(range(1, sys.maxsize))
        if json.loads(self._stdout.readline() or "{}").get("ready") is not True:
            raise RuntimeError("the check fork server did not start")
        self._reader = threading.Thread(target=self._read, name="check-forks", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self._stdout:
            reply = json.loads(line)
            with self._lock:
                run = self._runs.pop(reply["id"], None)
            if run is not None and not run.ended.done():
                run.ended.set_result(int(reply["code"]))
        with self._lock:  # the server is gone: no run will end by itself any more
            orphans, self._runs = list(self._runs.values()), {}
        for run in orphans:
            if not run.ended.done():
                run.ended.set_result(-1)

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._stdin.write(json.dumps(message) + "\n")
            self._stdin.flush()

    def start(self, argv: list[str], cwd: Path, env: dict[str, str], output: Path, module: str = "pytest") -> ForkedRun:
        with self._lock:
            run = ForkedRun(self, next(self._numbers), output)
            self._runs[run.number] = run
        request = {"id": run.number, "argv": argv, "cwd": str(cwd), "env": env, "output": str(output)}
        self.send(request if module == "pytest" else {**request, "module": module})
        return run

    def run(
        self, module: str, argv: list[str], cwd: Path, env: dict[str, str], output: Path, timeout: float
    ) -> tuple[int, str] | None:
        """``python -m module argv`` in a child, waited for: its exit code and output; None if it timed out."""
        run = self.start(argv, cwd, env, output, module)
        try:
            run.ended.result(timeout=timeout)
        except FutureTimeout:
            run.kill()
            return None
        return run.result()

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        if self._process.poll() is None:
            self._stdin.close()
            try:
                self._process.wait(timeout=KILL_GRACE)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._reader.join(timeout=KILL_GRACE)
        self._stdout.close()

    def __enter__(self) -> CheckForks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SharedForks:
    """One fork server for the whole process, started in the background on first use.

    The notebook kernel's ``check()`` and the in-process labs' commands use ``shared``;
    whoever cannot get it (it failed to start) starts a fresh process instead. A process
    forked from the server imports this module afresh, and so gets a server of its own.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: Future[CheckForks] | None = None

    def start(self) -> None:
        with self._lock:
            if self._started is None or self._broken():
                self._started = Future()
                threading.Thread(target=self._serve, args=(self._started,), daemon=True).start()

    def _serve(self, started: Future[CheckForks]) -> None:
        try:
            started.set_result(CheckForks())
        except Exception as exc:  # no server: callers start a fresh process instead
            started.set_exception(exc)

    def _broken(self) -> bool:
        started = self._started
        return (
            started is not None and started.done() and (started.exception() is not None or not started.result().alive)
        )

    def get(self, wait: float) -> CheckForks | None:
        """The server, once it has started (within ``wait`` seconds); None if it cannot start."""
        self.start()
        assert self._started is not None
        try:
            return self._started.result(timeout=wait)
        except Exception:  # no server: callers start a fresh process instead
            return None


shared = SharedForks()


if __name__ == "__main__":
    main()
