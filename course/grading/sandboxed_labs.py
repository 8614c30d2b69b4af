"""The grader's lab backend: the same checks, against labs that run in jails.

The grading plugin installs ``SandboxedLabs`` as the harness's backend
(``harness.use_backend``), so ``client``, ``lab(env=...)`` and ``run_lab_command`` reach a
jailed lab host instead of this process. A host imports the learner's lab once per
lesson; its app runner gives each check a fresh app (or several at once), as
in-process checks get them, and stops them afterwards. A command runs in a host that
imported the lab under the command's environment, as ``python -m`` would.

Nothing a jail says is taken on trust:
- The trusted side talks only to sockets whose peer runs as the owner's uid.
- It reads at most ``response_bytes`` from one connection to an app, and logs without
  following links.
- A database a check made lives where no jail can see it. A jail gets a copy in its
  owner's directory, in a new directory given to its uid before it can touch it, and
  the check gets the jail's result back as a copy read through a descriptor that
  follows no link. So root never acts on a path the learner controls.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpcore
import httpx

from ..advice import read_reported
from ..compat import unix_transport
from ..config import LAB_START_TIMEOUT, SandboxLimits
from ..harness import BASE_URL, AppReport, CommandResult, CountedDatabase, SharedDirectory
from ..patches import IGNORED
from ..protocol import ProtocolError, check_peer, listening, request
from ..resources import RunResources
from ..safe_fs import UnsafeFile, make_directory, open_directory, read_bounded, read_directory, replace_file, write_new
from ..sql_gateway import SCHEME as SQL_GATEWAY_SCHEME
from .sandbox_client import LONGEST_POLL, HostFailure, HostHandle, ZygoteClient, pauses, tail

APP_HEADER = "x-course-app"  # which app of a runner a request is for
SCHEME_HEADER = "x-course-scheme"  # the scheme the check asked for, when it is not plain http
STOP_TIMEOUT = 3.0  # an app that takes longer to stop has hung its runner
HOSTS_PER_OWNER = 4
LOG_SETTLE = 0.5
SHORTEST_TIMEOUT = 0.005  # however late, a request gets some time
STATUS_WAIT = 1.0  # seconds a host may hold a status request for a command to end: well inside its timeout
EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(?P<name>[A-Z]\w*(?:Error|Exception|Exit|Interrupt))(?::\s?(?P<text>.*))?$")
DATABASE_FILES = ("db.sqlite", "db.sqlite-wal")  # what a staged SQLite database consists of


class RemoteAppError(Exception):
    """What the sandboxed app raised, as its log tells it."""


def last_exception(log: str) -> RemoteAppError | None:
    for line in reversed(log.strip().splitlines()):
        if match := EXCEPTION_LINE.match(line.strip()):
            error = RemoteAppError(match["text"] or "")
            error.__class__ = type(match["name"], (RemoteAppError,), {})
            return error
    return None


class BoundedStream(httpcore.AsyncNetworkStream):
    """A connection to an app that refuses to read more than ``limit`` bytes in all."""

    def __init__(self, inner: httpcore.AsyncNetworkStream, limit: int) -> None:
        self.inner, self.left = inner, limit

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self.inner.read(max_bytes, timeout)
        self.left -= len(data)
        if self.left < 0:
            raise httpcore.ReadError("the app sent more than the grader reads from one connection")
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self.inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class JailNetwork(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, reaching only unix sockets served by one uid, and reading a bounded amount."""

    def __init__(self, uid: int | None, limit: int) -> None:
        self.uid, self.limit, self.inner = uid, limit, httpcore.AnyIOBackend()

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        stream = await self.inner.connect_unix_socket(path, timeout, socket_options)
        try:
            check_peer(stream.get_extra_info("socket"), self.uid)
        except PermissionError as exc:
            await stream.aclose()
            raise httpcore.ConnectError(str(exc)) from exc
        return BoundedStream(stream, self.limit)

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("a sandboxed lab is reached through its unix socket only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class AppTransport(httpx.AsyncBaseTransport):
    """Send each request to one app of a runner, naming it in a header the runner removes.

    A check may ask for ``https://testserver/...`` (a Secure cookie is sent back only over
    HTTPS): the socket carries plain HTTP, and the runner gives the app the scheme asked for,
    as ``httpx.ASGITransport`` does in-process.
    """

    def __init__(self, path: Path, uid: int | None, app: str, limit: int) -> None:
        self.inner = unix_transport(str(path), JailNetwork(uid, limit))
        self.app = app.encode()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        headers = [*request.headers.raw, (APP_HEADER.encode(), self.app)]
        url = request.url
        if url.scheme == "https":
            headers.append((SCHEME_HEADER.encode(), b"https"))
            url = url.copy_with(scheme="http")
        forwarded = httpx.Request(
            request.method, url, headers=headers, stream=request.stream, extensions=request.extensions
        )
        return await self.inner.handle_async_request(forwarded)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Owner:
    """The owner whose checks run now: one lesson of one submission, its public or its hidden checks."""

    name: str
    uid: int | None
    directory: Path
    tree: Path
    labs: Path
    hosts: dict[tuple[str, ...], HostHandle] = field(default_factory=dict)
    failed: dict[tuple[str, ...], str] = field(default_factory=dict)  # what did not start, not tried again
    stagings: int = 0


class SandboxedLabs:
    """The harness backend of the grader's check workers."""

    def __init__(self, zygote: ZygoteClient, limits: SandboxLimits, start_timeout: float = LAB_START_TIMEOUT) -> None:
        self.zygote, self.limits, self.start_timeout = zygote, limits, start_timeout
        self.owner: Owner | None = None

    # --- owners --------------------------------------------------------------------------------

    def begin(self, owner: str, tree: Path, labs: Path) -> None:
        """From now on, labs run as ``owner``: the submission's ``labs`` seen at ``tree/labs``."""
        self.end()
        opened = self.zygote.request("open_owner", owner=owner)
        self.owner = Owner(owner, opened["uid"], Path(opened["directory"]), tree, labs)

    def end(self) -> None:
        """Kill everything the owner started and forget it; what it wrote goes with it."""
        owner, self.owner = self.owner, None
        if owner is not None:
            with contextlib.suppress(HostFailure):
                self.zygote.request("close_owner", owner=owner.name)

    def _current(self) -> Owner:
        if self.owner is None:
            raise HostFailure("no submission is being graded")
        return self.owner

    # --- hosts ---------------------------------------------------------------------------------

    def _discard(self, host: HostHandle) -> None:
        owner = self._current()
        owner.hosts.pop(host.key, None)
        with contextlib.suppress(HostFailure):
            self.zygote.request("kill", pid=host.pid)

    def host(self, lesson: str, env: Mapping[str, str], deadline: float, labs: Path | None = None) -> HostHandle:
        """The running host for ``lesson`` imported under ``env``, started on first use.

        It imports from ``labs`` if given (a directory the check built), else from the submission.
        """
        owner = self._current()
        labs = labs or owner.labs
        key = ("host", lesson, str(labs), *sorted(f"{name}={value}" for name, value in env.items()))
        if key in owner.failed:
            raise AssertionError(owner.failed[key] + " (in an earlier check; not tried again)")
        if key in owner.hosts:
            return owner.hosts[key]
        spawned = self.zygote.request(
            "spawn", owner=owner.name, tree=str(owner.tree), labs=str(labs), lesson=lesson, env=dict(env)
        )
        host = HostHandle(self.zygote, key, spawned["pid"], spawned["uid"], Path(spawned["workdir"]))
        try:
            host.wait_listening(deadline, "host.sock")
        except HostFailure as failure:
            self._discard(host)
            owner.failed[key] = str(failure)
            raise AssertionError(str(failure)) from None
        for old in list(owner.hosts.values())[: max(0, len(owner.hosts) - HOSTS_PER_OWNER + 1)]:
            self._discard(old)  # the oldest make room
        owner.hosts[key] = host
        return host

    def _runner(self, host: HostHandle, deadline: float) -> None:
        """Fork the host's app runner, unless a live one is there already."""
        if host.runner is not None:
            if host.call("status", pid=host.runner[1])["alive"]:
                return
            self._stop_runner(host)  # an earlier check's app took it down
        name, pid = host.start("apps")
        try:
            host.wait_listening(deadline, f"{name}.ctl", f"{name}.sock")
        except HostFailure:
            with contextlib.suppress(HostFailure):
                host.call("stop", pid=pid)
            raise HostFailure(f"the lab's app server did not start:\n{tail(host.log(name))}") from None
        host.runner = (name, pid)

    def _stop_runner(self, host: HostHandle) -> None:
        if host.runner is not None:
            _, pid = host.runner
            host.runner = None
            try:
                host.call("stop", pid=pid)
            except HostFailure:
                self._discard(host)

    # --- databases -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def shared_directory(self) -> Iterator[SharedDirectory]:
        """A new directory of the owner's, given to its uid before any of its code can touch it; read without links."""
        owner = self._current()
        owner.stagings += 1
        directory = owner.directory / f"shared-{owner.stagings}"
        make_directory(directory, owner=owner.uid)
        yield SharedDirectory(str(directory), lambda: read_directory(directory))

    @contextlib.contextmanager
    def counted_database(self) -> Iterator[CountedDatabase]:
        """A database gateway of the owner's: it holds the file, runs the app's statements and counts them."""
        started = self.zygote.request("sql_gateway", owner=self._current().name)
        directory, uid, pid = Path(started["directory"]), started["uid"], started["pid"]
        deadline = time.monotonic() + self.start_timeout
        for pause in pauses():
            if listening(directory / "sql.sock") and listening(directory / "control.sock"):
                break
            if not self.zygote.request("status", pid=pid)["alive"] or time.monotonic() > deadline:
                raise AssertionError("the grader's database gateway did not start")
            time.sleep(pause)

        def ask(op: str) -> dict[str, Any]:
            try:
                return request(directory / "control.sock", op, timeout=STOP_TIMEOUT, uid=uid)
            except ProtocolError as exc:
                raise AssertionError(f"the grader's database gateway stopped answering ({exc})") from None

        try:
            url = f"{SQL_GATEWAY_SCHEME}:///{directory / 'sql.sock'}"
            yield CountedDatabase(url, lambda: int(ask("count")["statements"]), lambda: dict(ask("rows")["rows"]))
        finally:
            with contextlib.suppress(HostFailure):
                self.zygote.request("kill", pid=pid)

    def _stage(self, env: Mapping[str, str]) -> tuple[dict[str, str], list[tuple[Path, Path]]]:
        """Copies of the check's SQLite databases for the jail, and where to bring each back.

        Each copy goes in a new directory of the owner's, named after the database so
        the path stays the same for the host that imported the lab under it; an older
        copy is moved aside (a rename in root's own directory), never written over.
        """
        owner = self._current()
        staged, returns = dict(env), []
        for name, value in env.items():
            plain_sqlite = value.startswith("sqlite:")  # a file of the check's; not a gateway's socket
            canonical = RunResources.database_directory(value) if plain_sqlite else None
            if canonical is None or not canonical.is_dir():
                continue
            digest = hashlib.sha256(str(canonical).encode()).hexdigest()[:16]
            copy = owner.directory / f"db-{digest}"
            if copy.exists() or copy.is_symlink():
                owner.stagings += 1
                copy.rename(owner.directory / f"old-{owner.stagings}")
            make_directory(copy)
            with open_directory(copy) as descriptor:
                for filename in DATABASE_FILES:
                    if (canonical / filename).is_file():
                        data = (canonical / filename).read_bytes()
                        write_new(descriptor, filename, data, owner=owner.uid)
                if owner.uid is not None:
                    os.fchown(descriptor, owner.uid, owner.uid)
            staged[name] = value.replace(str(canonical), str(copy), 1)
            returns.append((copy, canonical))
        return staged, returns

    def _bring_back(self, returns: Sequence[tuple[Path, Path]]) -> None:
        """The jail's databases, copied back through descriptors that follow no link; nothing else."""
        for copy, canonical in returns:
            for filename in DATABASE_FILES:
                try:
                    with open_directory(copy) as descriptor:
                        data = read_bounded(filename, self.limits.tmpfs_bytes, dir_fd=descriptor)
                except FileNotFoundError:
                    (canonical / filename).unlink(missing_ok=True)
                    continue
                except (UnsafeFile, OSError):  # a link, a FIFO, or too large: the database is gone
                    data = b""
                replace_file(canonical, filename, data)

    @contextlib.contextmanager
    def _databases(self, env: Mapping[str, str]) -> Iterator[dict[str, str]]:
        staged, returns = self._stage(env)
        try:
            yield staged
        finally:
            self._bring_back(returns)

    # --- apps ----------------------------------------------------------------------------------

    def _serve(self, lesson: str, env: Mapping[str, str]) -> tuple[HostHandle, str]:
        """A fresh app from the lesson's host, served by its runner: the host and the app's name."""
        owner = self._current()
        app_key = ("app", lesson, *sorted(f"{name}={value}" for name, value in env.items()))
        if app_key in owner.failed:
            raise AssertionError(owner.failed[app_key] + " (in an earlier check; not tried again)")
        deadline = time.monotonic() + self.start_timeout
        host = self.host(lesson, {}, deadline)
        try:
            self._runner(host, deadline)
        except HostFailure as exc:
            self._discard(host)
            raise AssertionError(str(exc)) from exc
        host.apps += 1
        app = f"app-{host.apps}"
        try:
            started = host.ask_runner(
                max(SHORTEST_TIMEOUT, deadline - time.monotonic()), "serve", name=app, env=dict(env)
            )
        except HostFailure:  # stuck in the factory or the lifespan: that runner is lost
            self._stop_runner(host)
            failure = f"Timeout: the lab did not start within {self.start_timeout:g} s (stuck in its lifespan?)"
        else:
            if started["started"]:
                return host, app
            failure = f"the lab did not start:\n{tail(host.log(app))}"
        owner.failed[app_key] = failure
        raise AssertionError(failure)

    def _stop_app(self, host: HostHandle, app: str) -> None:
        """End the check's app; a runner that cannot is killed, and the next check gets another."""
        if host.runner is None:
            return
        try:
            host.ask_runner(STOP_TIMEOUT, "stop", name=app)
        except HostFailure:
            self._stop_runner(host)

    def open(
        self, lesson: str, env: Mapping[str, str], report: AppReport, *, fresh: bool = True
    ) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return self._open(lesson, env, report)

    @asynccontextmanager
    async def _open(self, lesson: str, env: Mapping[str, str], report: AppReport) -> AsyncIterator[httpx.AsyncClient]:
        with self._databases(env) as staged:
            host, app = await anyio.to_thread.run_sync(lambda: self._serve(lesson, staged), abandon_on_cancel=True)
            assert host.runner is not None

            async def note_server_errors(response: httpx.Response) -> None:
                if response.status_code != 500:  # only a crash has a traceback to explain it
                    return
                with anyio.move_on_after(LOG_SETTLE):  # the app logs its traceback just after it answers
                    while not (error := last_exception(host.log(app))):
                        await anyio.sleep(0.02)
                    report.errors.append(error)

            try:
                transport = AppTransport(
                    host.workdir / f"{host.runner[0]}.sock", host.uid, app, self.limits.response_bytes
                )
                hooks: dict[str, list[Any]] = {"response": [note_server_errors]}
                async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, event_hooks=hooks) as client:
                    yield client
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(lambda: self._stop_app(host, app))
                    # The lab's import-time warnings are in the host's log, the app's own in its log.
                    report.advice.extend(
                        read_reported(host.log("output") + "\n" + host.log(app), str(self._current().tree))
                    )

    # --- commands ------------------------------------------------------------------------------

    def _visible(self, labs: Path) -> Path:
        """A read-only copy of a labs directory the check built, where the owner's jails can see it."""
        owner = self._current()
        owner.stagings += 1
        copy = owner.directory / f"labs-{owner.stagings}"
        shutil.copytree(labs, copy, ignore=IGNORED, symlinks=False)
        for path in [copy, *copy.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # root's: the jail reads it and cannot change it
        return copy

    def run_command(
        self,
        module: str,
        args: Sequence[str],
        env: Mapping[str, str],
        timeout: float,
        lesson: str | None,
        labs: Path | None = None,
    ) -> CommandResult:
        """``python -m module args`` in a jail, waited for up to ``timeout`` seconds.

        It forks from a host that imported ``lesson``'s lab under ``env`` (no lab without
        a lesson), as a fresh ``python -m`` would have imported it.
        """
        label = f"python -m {module}"
        started = time.monotonic()
        deadline = started + timeout
        with self._databases(env) as staged:
            try:
                visible = self._visible(labs) if labs is not None else None
                host = self.host(lesson or "", staged, min(deadline, started + self.start_timeout), visible)
            except AssertionError as failure:
                return CommandResult(1, str(failure))
            try:
                name, pid = host.start("run", module=module, args=list(args), env=staged)
            except HostFailure as exc:
                self._discard(host)
                return CommandResult(-1, str(exc))
            return self._finish_command(host, name, pid, deadline, label, timeout)

    def _finish_command(
        self, host: HostHandle, name: str, pid: int, deadline: float, label: str, timeout: float
    ) -> CommandResult:
        try:
            while (left := deadline - time.monotonic()) > 0:
                # The host answers when the command ends, or after ``wait``: no poll wakes either side meanwhile.
                asked = time.monotonic()
                status = host.call("status", pid=pid, wait=min(left, STATUS_WAIT))
                if not status["alive"]:
                    host.call("stop", pid=pid)
                    return CommandResult(status["exit"], host.log(name))
                # The learner's code shares the host and may make it answer at once: ask no faster than a poll.
                time.sleep(max(0.0, LONGEST_POLL - (time.monotonic() - asked)))
        except HostFailure as exc:
            self._discard(host)
            return CommandResult(-1, f"{exc}\n{host.log(name)}")
        try:
            host.call("stop", pid=pid)
        except HostFailure:
            self._discard(host)
        return CommandResult(-1, f"Timeout: {label} did not finish within {timeout:g} s\n{host.log(name)}")
