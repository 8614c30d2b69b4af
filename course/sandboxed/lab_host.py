"""Inside a jail: import the learner's lab once, then fork the processes the checks need.

The zygote forks a jail and this module runs in it (after ``jail.enter``), so
the learner's code is imported here for the first time, with no network, no
secrets and its own limits. Importing a lab costs far more than forking, so the
host keeps the imported modules and answers the trusted side on ``host.sock``:

- ``apps``: fork the child that serves a fresh app per check (``app_runner``);
- ``run``: fork a child that runs ``python -m MODULE ARGS`` (Alembic, say);
- ``status`` and ``stop`` for those children.

Apps come from a host that imported the lab with no extra environment, and each
app gets its check's environment while the factory runs, as in-process
``create_app(env=...)`` does. A command runs in a host that imported the lab under
the command's environment, as ``python -m`` would.

Each child writes its output to ``NAME.log`` and leads its own process group, so
stopping it stops whatever it started. The trusted side names every file, checks
who owns a socket before it talks to it, and judges only from outside; a learner
who subverts the host only spoils their own answers.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import runpy
import select
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from ..protocol import serve_connection
from .jail import run_and_exit

HOST_SOCKET = "host.sock"
REQUEST_TIMEOUT = 10.0
LONGEST_STATUS_WAIT = 2.0  # a status request waits at most this long, well inside the caller's timeout
SAFE_CHILD_NAME = re.compile(r"^[a-z]+-\d+$")


def child_output(path: Path) -> None:
    """Send this process's output (fds 1 and 2) to ``path``, never through a link planted there."""
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)


def _wait_for_exit(pid: int, seconds: float) -> None:
    """Return when child ``pid`` has ended, or after ``seconds``: a pidfd is readable once its process ends."""
    try:
        descriptor = os.pidfd_open(pid)
    except OSError:  # no pidfds on this kernel: answer now; the caller paces its asking (one per poll)
        return
    try:
        select.select([descriptor], [], [], seconds)
    finally:
        os.close(descriptor)


def _run_module(name: str, args: list[str]) -> None:
    """As ``python -m name args`` from the tree: it, too, finds modules in the working directory first."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    sys.argv = [name, *args]
    runpy.run_module(name, run_name="__main__", alter_sys=True)


class LabHost:
    def __init__(self, lesson: str, workdir: Path, env: dict[str, str]) -> None:
        from ..advice import report_warnings
        from ..harness import import_lab
        from ..sql_gateway import register

        report_warnings()  # warnings are advice for the learner, as in a self-check
        register()  # a check may give the lab a database the trusted side counts
        self.workdir = workdir
        # The learner's code runs from here on. A host for commands that load no lab imports none.
        self.module = import_lab(lesson, fresh=False) if lesson else None
        if self.module is not None and not env:  # serves apps; a command's host only imports, as python -m would
            self.warm_up()
        gc.freeze()  # as in the zygote: children share this heap copy-on-write
        self.children: dict[int, int | None] = {}

    def warm_up(self) -> None:
        """Do once what every forked child would otherwise do first, each on its own.

        Building an app and running its lifespan fill FastAPI's, pydantic's and
        SQLAlchemy's caches, which every child then shares, as the checks' apps share
        one interpreter in-process. What fails here fails again, and is told, in the child.
        """
        import asyncio

        from asgi_lifespan import LifespanManager

        from ..config import LIFESPAN_TIMEOUT

        module = self.module
        assert module is not None, "a host for commands imports no lab, and warms nothing up"

        async def start_and_stop() -> None:
            async with LifespanManager(module.create_app()):
                pass

        with contextlib.suppress(Exception):
            asyncio.run(asyncio.wait_for(start_and_stop(), LIFESPAN_TIMEOUT))

    def serve_forever(self) -> None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.workdir / HOST_SOCKET))
        listener.listen(16)
        while True:
            connection, _ = listener.accept()
            with connection, contextlib.suppress(OSError):  # a probe, or a client that gave up
                serve_connection(connection, self, REQUEST_TIMEOUT)

    def _fork(self, name: str, work: Any) -> dict[str, Any]:
        if not SAFE_CHILD_NAME.match(name):
            raise ValueError(f"bad child name {name!r}")
        pid = os.fork()
        if pid == 0:

            def child() -> None:
                os.setpgid(0, 0)
                child_output(self.workdir / f"{name}.log")
                sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - lives as long as the process
                sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115 - as above
                work()

            run_and_exit(child)
        with contextlib.suppress(OSError):  # as the child does: whoever runs first wins the race
            os.setpgid(pid, pid)
        self.children[pid] = None
        return {"pid": pid}

    def op_apps(self, name: str) -> dict[str, Any]:
        from .app_runner import run

        def work() -> None:
            # Apps run in an empty directory, as the checks run them in-process: a lab that finds its files
            # through the working directory (the tree's root here) must fail under the grader too.
            empty = self.workdir / f"{name}.cwd"
            empty.mkdir()
            os.chdir(empty)
            run(self.module, self.workdir, name)

        return self._fork(name, work)

    def op_run(self, name: str, module: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
        def work() -> None:
            os.environ.update(env)
            _run_module(module, args)

        return self._fork(name, work)

    def op_status(self, pid: int, wait: float = 0.0) -> dict[str, Any]:
        """Whether child ``pid`` runs still, and its exit code; with ``wait``, first waits that long for it to end."""
        if self.children[pid] is None and wait > 0:
            _wait_for_exit(pid, min(wait, LONGEST_STATUS_WAIT))
        if self.children[pid] is None:
            with contextlib.suppress(ChildProcessError):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    self.children[pid] = os.waitstatus_to_exitcode(status)
        return {"alive": self.children[pid] is None, "exit": self.children[pid]}

    def op_stop(self, pid: int) -> dict[str, Any]:
        if self.children.get(pid, 0) is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(pid, 0)
                self.children[pid] = os.waitstatus_to_exitcode(status)
        return {"exit": self.children.pop(pid, None)}


def run(lesson: str, workdir: str, env: dict[str, str]) -> None:
    LabHost(lesson, Path(workdir), env).serve_forever()
