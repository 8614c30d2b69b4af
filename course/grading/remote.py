"""The trusted side of a sandboxed lab: hosts from the zygote, a fresh app per check over a socket.

When ``COURSE_GRADE_ZYGOTE`` is set, ``harness.open_lab`` and ``harness.run_lab_command``
come here, so the same checks run unchanged against an app in another process.
A sandboxed lab host (``lab_host``) imports the learner's lab once per lesson; its
app runner (``app_runner``) gives each check a fresh app, as in-process checks get
one, and stops it afterwards. Commands run in a host of their own environment.

Nothing a sandbox says is taken on trust: the trusted side names every file, reads
logs without following links, and talks only to sockets whose peer runs as the
sandbox's own uid, so a learner cannot pass off another learner's app as theirs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import struct
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpcore
import httpx

from ..harness import CommandResult
from ..layout import tree_root
from ..resources import RunResources
from .lab_host import HOST_SOCKET
from . import SOCKET_ENV
from .zygote import Client, log_tail

OWNER_ENV = "COURSE_GRADE_OWNER"
START_TIMEOUT_ENV = "COURSE_GRADE_START_TIMEOUT"
HOST_TIMEOUT = 5.0
STOP_TIMEOUT = 3.0  # an app that takes longer to stop has hung its runner
HOSTS_PER_OWNER = 4
LOG_SETTLE = 0.5
POLL = 0.005
EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(?P<name>[A-Z]\w*(?:Error|Exception|Exit|Interrupt))(?::\s?(?P<text>.*))?$")
HostKey = tuple[str, str, str, tuple[tuple[str, str], ...]]


class RemoteAppError(Exception):
    """What the sandboxed app raised, as its log tells it."""


class HostFailure(Exception):
    """The lab host stopped answering as it should."""


def _zygote() -> Client:
    return Client(os.environ[SOCKET_ENV])


def _owner() -> str:
    return os.environ.get(OWNER_ENV, "")


def _start_timeout() -> float:
    return float(os.environ.get(START_TIMEOUT_ENV, "15"))


def writable_paths(env: Mapping[str, str]) -> list[str]:
    """The SQLite databases named in ``env``: the sandbox must be allowed to write them."""
    found = []
    for value in env.values():
        directory = RunResources.database_directory(value) if value.startswith("sqlite") else None
        if directory is not None and directory.is_dir():  # a missing one stays missing, as the check wants
            found.append(str(directory))
    return found


def last_exception(log: str) -> RemoteAppError | None:
    for line in reversed(log.strip().splitlines()):
        if match := EXCEPTION_LINE.match(line.strip()):
            error = RemoteAppError(match["text"] or "")
            error.__class__ = type(match["name"], (RemoteAppError,), {})
            return error
    return None


def _tail(log: str, lines: int = 12) -> str:
    return "\n".join(log.strip().splitlines()[-lines:])


def listening(path: Path) -> bool:
    """Whether a socket listens at ``path``: a server binds the file before it listens."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(HOST_TIMEOUT)
        try:
            probe.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return False
        except OSError:  # a path that is no socket at all: the checks will say so
            return True
    return True


def check_peer(connection: socket.socket, uid: int | None) -> None:
    """Refuse a socket whose other end is not the sandbox's own uid (a link to someone else's)."""
    if uid is None:
        return
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, peer_uid, _ = struct.unpack("3i", credentials)
    if peer_uid != uid:
        raise PermissionError(f"the socket answered as uid {peer_uid}, not the sandbox's uid {uid}")


class SandboxBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, connecting only to unix sockets served by one sandbox uid."""

    def __init__(self, uid: int | None) -> None:
        self.uid, self.inner = uid, httpcore.AnyIOBackend()

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        stream = await self.inner.connect_unix_socket(path, timeout, socket_options)
        try:
            check_peer(stream.get_extra_info("socket"), self.uid)
        except PermissionError as exc:
            await stream.aclose()
            raise httpcore.ConnectError(str(exc)) from exc
        return stream

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("a sandboxed lab is reached through its unix socket only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def sandbox_transport(path: Path, uid: int | None) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(uds=str(path), verify=False)  # no TLS here: skip loading CAs
    # httpx takes no network backend; its pool does, and the pool is all the transport holds.
    transport._pool = httpcore.AsyncConnectionPool(uds=str(path), network_backend=SandboxBackend(uid))
    return transport


def _ask(path: Path, uid: int | None, timeout: float, op: str, **fields: Any) -> dict[str, Any]:
    """One JSON-line request to a sandbox's control socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(str(path))
            check_peer(connection, uid)
            with connection.makefile("rwb") as stream:
                stream.write(json.dumps({"op": op, **fields}).encode() + b"\n")
                stream.flush()
                reply: dict[str, Any] = json.loads(stream.readline())
    except (OSError, ValueError) as exc:
        raise HostFailure(f"the lab's sandbox stopped answering ({exc})") from exc
    if not isinstance(reply, dict) or "error" in reply:
        raise HostFailure(f"the lab's sandbox failed to {op}: {reply}")
    return reply


@dataclass
class LabHost:
    """A sandbox holding one learner's lab, imported under one environment."""

    key: HostKey
    pid: int
    uid: int | None
    workdir: Path
    started: int = 0
    runner: tuple[str, int] | None = None  # the child serving apps: name and pid
    apps: int = 0

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        return _ask(self.workdir / HOST_SOCKET, self.uid, HOST_TIMEOUT, op, **fields)

    def ask_runner(self, timeout: float, op: str, **fields: Any) -> dict[str, Any]:
        assert self.runner is not None
        return _ask(self.workdir / f"{self.runner[0]}.ctl", self.uid, timeout, op, **fields)

    def start(self, op: str, **fields: Any) -> tuple[str, int]:
        """Fork a child of the host (``apps`` or ``run``): its name and pid."""
        self.started += 1
        name = f"{op}-{self.started}"
        pid = self.call(op, name=name, **fields)["pid"]
        if not isinstance(pid, int):
            raise HostFailure(f"the lab's sandbox gave a bad pid: {pid!r}")
        return name, pid

    def grant(self, env: Mapping[str, str]) -> None:
        """Let this host write the SQLite databases ``env`` names (another host may have had them)."""
        if paths := writable_paths(env):
            _zygote().request("grant", pid=self.pid, paths=paths)

    def log(self, name: str) -> str:
        return log_tail(self.workdir / f"{name}.log")


# Hosts by owner, tree, lesson and environment; and starts that failed, so the next
# check is told at once instead of waiting for the same hang or crash again.
_hosts: dict[HostKey, LabHost] = {}
_failed_starts: dict[HostKey, str] = {}  # hosts that did not start
_failed_apps: dict[HostKey, str] = {}  # apps that did not start, by their environment


def _key(lesson: str, env: Mapping[str, str]) -> HostKey:
    return (_owner(), str(tree_root()), lesson, tuple(sorted(env.items())))


def forget(owner: str) -> None:
    """Drop what is known of ``owner``'s sandboxes once the zygote has killed them."""
    for table in (_hosts, _failed_starts, _failed_apps):
        for key in [key for key in table if key[0] == owner]:
            del table[key]


def discard(host: LabHost) -> None:
    _hosts.pop(host.key, None)
    with contextlib.suppress(OSError, RuntimeError):
        _zygote().request("kill", pid=host.pid)


def _spawn_host(key: HostKey, lesson: str, env: Mapping[str, str], deadline: float) -> LabHost:
    zygote = _zygote()
    spawned = zygote.request(
        "spawn", tree=key[1], owner=key[0], lesson=lesson, env=dict(env), writable=writable_paths(env)
    )
    host = LabHost(key, spawned["pid"], spawned["uid"], Path(spawned["workdir"]))
    while not listening(host.workdir / HOST_SOCKET):
        status = zygote.request("status", pid=host.pid)
        if not status["alive"]:
            discard(host)
            raise AssertionError(f"the lab did not start (exit code {status['exit']}):\n{_tail(status['log'])}")
        if time.monotonic() > deadline:
            discard(host)
            raise AssertionError(f"Timeout: the lab did not start within {_start_timeout():g} s (stuck while importing or creating the app?)")
        time.sleep(POLL)
    owned = [other for other in _hosts.values() if other.key[0] == key[0]]
    for old in owned[: max(0, len(owned) - HOSTS_PER_OWNER + 1)]:  # the oldest make room
        discard(old)
    _hosts[key] = host
    return host


def lab_host(lesson: str, env: Mapping[str, str], deadline: float) -> LabHost:
    """The running host for ``lesson`` under ``env``, started on first use."""
    key = _key(lesson, env)
    if key in _failed_starts:
        raise AssertionError(_failed_starts[key] + " (in an earlier check; not tried again)")
    try:
        return _hosts.get(key) or _spawn_host(key, lesson, env, deadline)
    except AssertionError as failure:
        _failed_starts[key] = str(failure)
        raise


def _start_runner(host: LabHost, deadline: float) -> None:
    """Fork the host's app runner, unless a live one is there already."""
    if host.runner is not None:
        if host.call("status", pid=host.runner[1])["alive"]:
            return
        _stop_runner(host)  # an earlier check's app took it down
    name, pid = host.start("apps")
    while not (listening(host.workdir / f"{name}.ctl") and listening(host.workdir / f"{name}.sock")):
        status = host.call("status", pid=pid)
        if not status["alive"] or time.monotonic() > deadline:
            host.call("stop", pid=pid)
            raise HostFailure(f"the lab's app server did not start:\n{_tail(host.log(name))}")
        time.sleep(POLL)
    host.runner = (name, pid)


def _stop_runner(host: LabHost) -> None:
    if host.runner is not None:
        _, pid = host.runner
        host.runner = None
        try:
            host.call("stop", pid=pid)
        except HostFailure:
            discard(host)


def _serve(lesson: str, env: Mapping[str, str]) -> tuple[LabHost, str]:
    """A fresh app from the lesson's host, served by its runner: the host and the app's name."""
    app_key = _key(lesson, env)
    if app_key in _failed_apps:
        raise AssertionError(_failed_apps[app_key] + " (in an earlier check; not tried again)")
    deadline = time.monotonic() + _start_timeout()
    host = lab_host(lesson, {}, deadline)
    try:
        host.grant(env)
        _start_runner(host, deadline)
    except HostFailure as exc:
        discard(host)
        raise AssertionError(str(exc)) from exc
    host.apps += 1
    app = f"app-{host.apps}"
    try:
        started = host.ask_runner(max(POLL, deadline - time.monotonic()), "serve", name=app, env=dict(env))["started"]
    except HostFailure:  # stuck in the factory or the lifespan: that runner is lost
        _stop_runner(host)
        failure = f"Timeout: the lab did not start within {_start_timeout():g} s (stuck in its lifespan?)"
    else:
        if started:
            return host, app
        failure = f"the lab did not start:\n{_tail(host.log(app))}"
    _failed_apps[app_key] = failure
    raise AssertionError(failure)


def _stop_app(host: LabHost) -> None:
    """End the check's app; a runner that cannot is killed, and the next check gets another."""
    if host.runner is None:
        return
    try:
        host.ask_runner(STOP_TIMEOUT, "stop")
    except HostFailure:
        _stop_runner(host)


def _stop(host: LabHost, pid: int) -> None:
    try:
        host.call("stop", pid=pid)
    except HostFailure:
        discard(host)


@asynccontextmanager
async def open_remote_lab(
    lesson: str, env: Mapping[str, str] | None, errors: list[BaseException]
) -> AsyncIterator[httpx.AsyncClient]:
    env = dict(env or {})
    host, name = await anyio.to_thread.run_sync(lambda: _serve(lesson, env), abandon_on_cancel=True)
    assert host.runner is not None
    runner_socket = host.workdir / f"{host.runner[0]}.sock"

    async def note_server_errors(response: httpx.Response) -> None:
        if response.status_code != 500:  # only a crash has a traceback to explain it
            return
        with anyio.move_on_after(LOG_SETTLE):  # the app logs its traceback just after it answers
            while not (error := last_exception(host.log(name))):
                await anyio.sleep(0.02)
            errors.append(error)

    try:
        transport = sandbox_transport(runner_socket, host.uid)
        hooks: dict[str, list[Any]] = {"response": [note_server_errors]}
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", event_hooks=hooks) as client:
            yield client
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(lambda: _stop_app(host))


def _finish_command(host: LabHost, name: str, pid: int, deadline: float, label: str, timeout: float) -> CommandResult:
    try:
        while time.monotonic() < deadline:
            status = host.call("status", pid=pid)
            if not status["alive"]:
                host.call("stop", pid=pid)
                return CommandResult(status["exit"], host.log(name))
            time.sleep(POLL)
    except HostFailure as exc:
        discard(host)
        return CommandResult(-1, f"{exc}\n{host.log(name)}")
    _stop(host, pid)
    return CommandResult(-1, f"Timeout: {label} did not finish within {timeout:g} s\n{host.log(name)}")


def run_remote_command(
    module: str, args: list[str], env: dict[str, str], timeout: float, lesson: str | None = None
) -> CommandResult:
    """``python -m module args`` in a sandbox, waited for up to ``timeout`` seconds.

    It forks from a host that imported ``lesson``'s lab under ``env`` (no lab without
    a lesson), as a fresh ``python -m`` would have imported it.
    """
    label = f"python -m {module}"
    started = time.monotonic()
    deadline = started + timeout
    try:
        host = lab_host(lesson or "", env, min(deadline, started + _start_timeout()))
    except AssertionError as failure:
        return CommandResult(1, str(failure))
    try:
        host.grant(env)
        name, pid = host.start("run", module=module, args=args, env=env)
    except HostFailure as exc:
        discard(host)
        return CommandResult(-1, str(exc))
    return _finish_command(host, name, pid, deadline, label, timeout)
