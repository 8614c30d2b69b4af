"""A warm process that forks one ``python -m MODULE`` run (pytest, by default) per request.

``course check`` starts a fresh ``python -m pytest`` for every run, and so pays for
importing pytest, FastAPI, SQLAlchemy and the rest each time: more than a CPU-second.
Check strength runs the checks of some 400 implementations, and lesson 11's checks run
a learner's tests once per planted bug, so they ask this server instead, which imports
those libraries once and forks a child per run. To the run a child is a fresh process:
its own working directory, environment, time zone, process group and output file, and
no module of the course imported before it starts.

One server serves a whole run. It listens on a Unix socket in a private directory, and
every child learns its address (``FORKS_ENV``): a check that runs a lab command (Alembic,
a learner's tests) and a notebook kernel that ``verify`` started ask the same server
instead of warming one of their own. The server lives while its owner keeps its stdin open.

The protocol is one JSON object per line on a connection: ``{"id", "argv", "cwd", "env",
"output"}`` (and ``"module"`` unless it is pytest) starts a run and ``{"kill": id}`` stops
one; ``{"id", "code"}`` says that a run has ended. A connection that closes has its runs
killed: nobody is left to read their results.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import io
import json
import os
import runpy
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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
    "anyio",
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
FORKS_ENV = "COURSE_CHECK_FORKS"  # the address of the server whose child this process is


# --- the server ----------------------------------------------------------------------------------------


def pytest_modules() -> tuple[str, ...]:
    """pytest and the plugins every run of it loads: a warm process imports them so that no run pays."""
    from _pytest.config import default_plugins

    return ("pytest", "pytest_timeout", "anyio.pytest_plugin", *(f"_pytest.{plugin}" for plugin in default_plugins))


def _warm() -> None:
    for name in (*WARM_MODULES, *pytest_modules()):
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
        # As a process that ends by itself: what the run registered (its databases, its scratch folder) is removed.
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    os._exit(code)


class _Connection:
    """One client of the server: its socket, what it has sent so far, and its runs."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.pending = sock, b""
        self.runs: dict[int, int] = {}  # request id → pid

    def reply(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):  # the client is gone: nobody reads this
            self.sock.sendall((json.dumps(message) + "\n").encode())


def serve(owner: IO[bytes], listener: socket.socket) -> None:
    """Fork a child per request from any connection, until ``owner`` closes and every child has ended."""
    connections: dict[socket.socket, _Connection] = {}
    children: dict[int, tuple[_Connection, int]] = {}  # pid → who asked, and the request's id
    serving = True
    while serving or children:
        watched: list[Any] = [owner, listener, *connections] if serving else []
        ready, _, _ = select.select(watched, [], [], POLL)
        for source in ready:
            if source is owner:
                if not os.read(owner.fileno(), 65536):  # the owner is gone: so is every run
                    serving = False
                    for pid in children:
                        _kill_group(pid)
            elif source is listener:
                accepted, _ = listener.accept()
                connections[accepted] = _Connection(accepted)
            else:
                connection = connections[source]
                chunk = b""
                with contextlib.suppress(OSError):
                    chunk = source.recv(65536)
                if not chunk:
                    for pid in connection.runs.values():
                        _kill_group(pid)
                    connections.pop(source).sock.close()
                    continue
                connection.pending += chunk
                while b"\n" in connection.pending:
                    line, connection.pending = connection.pending.split(b"\n", 1)
                    _answer(json.loads(line), connection, children)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            if pid in children:
                connection, number = children.pop(pid)
                connection.runs.pop(number, None)
                connection.reply({"id": number, "code": os.waitstatus_to_exitcode(status)})
    for connection in connections.values():
        connection.sock.close()


def _answer(request: dict[str, Any], connection: _Connection, children: dict[int, tuple[_Connection, int]]) -> None:
    if "kill" in request:
        if (pid := connection.runs.get(request["kill"])) is not None:
            _kill_group(pid)
        return
    pid = os.fork()
    if pid == 0:
        _run_child(request)
    connection.runs[request["id"]] = pid
    children[pid] = (connection, request["id"])


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def main() -> None:
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # stray prints from the warm imports must not garble the replies
    _warm()
    directory = tempfile.mkdtemp(prefix="course-forks-")  # private: only this user may connect
    address = os.path.join(directory, "socket")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(address)
            listener.listen(64)
            replies.write(json.dumps({"ready": True, "address": address}) + "\n")
            replies.flush()
            serve(sys.stdin.buffer, listener)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


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
    """A client of a server: ``start(argv, cwd, env, output)`` runs pytest in a child of it.

    Without ``address`` it starts a server of its own, which lives until ``close()``; with
    one, it connects to that server (a child of it, say, passed ``FORKS_ENV``).
    """

    def __init__(self, address: str | None = None) -> None:
        self._process: subprocess.Popen[str] | None = None
        if address is None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "course.check_forks"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            assert self._process.stdout is not None
            ready = json.loads(self._process.stdout.readline() or "{}")
            if ready.get("ready") is not True:
                self._process.kill()
                self._process.wait()
                raise RuntimeError("the check fork server did not start")
            address = str(ready["address"])
        self.address = address
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._socket.connect(address)
        except OSError:
            self._socket.close()
            self._stop_server()
            raise
        self._lock = threading.Lock()
        self._runs: dict[int, ForkedRun] = {}
        self._numbers = iter(range(1, sys.maxsize))
        self._reader = threading.Thread(target=self._read, name="check-forks", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with contextlib.suppress(OSError), self._socket.makefile("r", encoding="utf-8") as replies:
            for line in replies:
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
            self._socket.sendall((json.dumps(message) + "\n").encode())

    def start(self, argv: list[str], cwd: Path, env: dict[str, str], output: Path, module: str = "pytest") -> ForkedRun:
        with self._lock:
            run = ForkedRun(self, next(self._numbers), output)
            self._runs[run.number] = run
        env = {**env, FORKS_ENV: self.address}  # the child's own lab commands come back to this server
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
        return self._reader.is_alive()

    def _stop_server(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=KILL_GRACE)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        self._stop_server()
        self._reader.join(timeout=KILL_GRACE)
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> CheckForks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SharedForks:
    """One fork server for the whole process, started in the background on first use.

    The notebook kernel's ``check()`` and the in-process labs' commands use ``shared``;
    whoever cannot get it (it failed to start) starts a fresh process instead. A process
    told the address of a running server (``FORKS_ENV``: a child of one, or a kernel that
    ``verify`` started) connects to it rather than warming a server of its own.
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
            if address := os.environ.get(FORKS_ENV):
                with contextlib.suppress(OSError):
                    started.set_result(CheckForks(address))
                    return
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
