"""The trusted side's handles on the sandbox: the zygote process, its owners, and the lab hosts in them.

The zygote is started from a clean ``execve`` with an explicit environment, so nothing
of the instructor's shell is in the memory its jails inherit. Every request goes
through ``course.protocol``, to sockets whose peer runs as the uid expected: root for
the zygote, the owner's uid for a host and its runner. Logs are read without following
links, so a learner who swapped a log for a link to a secret shows nobody the secret.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import SandboxLimits
from ..protocol import ProtocolError, listening, request
from ..safe_fs import read_tail

ZYGOTE_MODULE = "course.sandboxed.zygote"
ZYGOTE_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 120.0  # closing every owner: killing what they run, freeing what they wrote
HOST_TIMEOUT = 5.0
HOST_SOCKET = "host.sock"  # as the lab host names it, in its workdir
LOG_TAIL = 4000
# Waiting for a jail to start, polled: at first often, for what is ready at once, then less, for what takes
# a while. Each poll wakes the zygote or the host.
FIRST_POLL = 0.002
LONGEST_POLL = 0.05
# All a zygote inherits: a locale and a time zone (apps format times by it), and, when the
# course's own tests measure coverage, coverage's settings. Nothing secret.
ZYGOTE_ENV = ("LANG", "LC_ALL", "TZ", "COVERAGE_PROCESS_CONFIG")


class HostFailure(Exception):
    """A lab host, its runner or the zygote stopped answering as it should."""


class ZygoteClient:
    """Requests to a running zygote, whose socket only root (or, without root, this user) may open."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def request(self, op: str, timeout: float = ZYGOTE_TIMEOUT, **fields: Any) -> dict[str, Any]:
        try:
            return request(self.path, op, timeout=timeout, uid=os.geteuid(), **fields)
        except ProtocolError as exc:
            raise HostFailure(f"the sandbox server failed to {op}: {exc}") from exc


@dataclass
class ZygoteProcess:
    """Start and stop the zygote of one grading run."""

    work: Path
    limits: SandboxLimits
    process: subprocess.Popen[str] | None = None
    isolation: dict[str, Any] = field(default_factory=dict)

    @property
    def socket(self) -> Path:
        return self.work / "zygote.sock"

    def launch(self) -> None:
        """Start the zygote; its imports take a second, so other start-up can go on meanwhile."""
        self.work.mkdir(parents=True, exist_ok=True)
        os.chmod(self.work, 0o711)  # jails pass through to their own directories, never list them
        command = [
            sys.executable,
            "-P",
            "-m",
            ZYGOTE_MODULE,
            str(self.socket),
            str(self.work),
            json.dumps(self.limits.as_dict()),
        ]
        env = {key: os.environ[key] for key in ZYGOTE_ENV if key in os.environ}
        env["PATH"] = os.path.dirname(sys.executable) + ":/usr/bin:/bin"
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, close_fds=True)

    def wait_ready(self) -> ZygoteClient:
        assert self.process is not None and self.process.stdout is not None
        word, _, isolation = self.process.stdout.readline().partition(" ")  # "" if it died
        if word != "ready":
            self.stop()
            raise HostFailure("the grading sandbox server did not start")
        self.isolation = json.loads(isolation)
        return ZygoteClient(self.socket)

    def start(self) -> ZygoteClient:
        self.launch()
        return self.wait_ready()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(HostFailure):
            ZygoteClient(self.socket).request("shutdown", timeout=SHUTDOWN_TIMEOUT)
        for stop in (self.process.terminate, self.process.kill):  # terminate still lets it clean up
            try:
                self.process.wait(SHUTDOWN_TIMEOUT / 4)
                break
            except subprocess.TimeoutExpired:
                stop()
        self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self.process = None


@dataclass
class HostHandle:
    """A jailed lab host: one learner's lab of one lesson, imported under one environment."""

    zygote: ZygoteClient
    key: tuple[str, ...]
    pid: int
    uid: int | None
    workdir: Path
    started: int = 0
    runner: tuple[str, int] | None = None  # the child serving apps: name and pid
    apps: int = 0

    def call(self, op: str, timeout: float = HOST_TIMEOUT, **fields: Any) -> dict[str, Any]:
        try:
            return request(self.workdir / HOST_SOCKET, op, timeout=timeout, uid=self.uid, **fields)
        except ProtocolError as exc:
            raise HostFailure(f"the lab's sandbox stopped answering ({exc})") from exc

    def ask_runner(self, timeout: float, op: str, **fields: Any) -> dict[str, Any]:
        assert self.runner is not None
        try:
            return request(self.workdir / f"{self.runner[0]}.ctl", op, timeout=timeout, uid=self.uid, **fields)
        except ProtocolError as exc:
            raise HostFailure(f"the lab's app server stopped answering ({exc})") from exc

    def start(self, op: str, **fields: Any) -> tuple[str, int]:
        """Fork a child of the host (``apps`` or ``run``): its name and pid."""
        self.started += 1
        name = f"{op}-{self.started}"
        pid = self.call(op, name=name, **fields)["pid"]
        if not isinstance(pid, int):
            raise HostFailure(f"the lab's sandbox gave a bad pid: {pid!r}")
        return name, pid

    def log(self, name: str) -> str:
        return read_tail(self.workdir / f"{name}.log", LOG_TAIL)

    def wait_listening(self, deadline: float, *names: str) -> None:
        """Wait until the host listens on each socket named, or say why it never will."""
        for pause in pauses():
            if all(listening(self.workdir / name) for name in names):
                return
            status = self.zygote.request("status", pid=self.pid)
            if not status["alive"]:
                raise HostFailure(f"the lab did not start (exit code {status['exit']}):\n{tail(status['log'])}")
            if time.monotonic() > deadline:
                raise HostFailure("Timeout: the lab did not start in time (stuck while importing or creating the app?)")
            time.sleep(pause)


def pauses(first: float = FIRST_POLL, longest: float = LONGEST_POLL) -> Iterator[float]:
    """Sleeps between polls, without end: ``first``, then each twice the last, up to ``longest``."""
    pause = first
    while True:
        yield pause
        pause = min(2 * pause, longest)


def tail(log: str, lines: int = 12) -> str:
    return "\n".join(log.strip().splitlines()[-lines:])
