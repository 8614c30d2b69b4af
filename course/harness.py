"""Load a lab app from the tree under test and talk to it: the one seam between checks and labs.

Both the notebook helpers and the checks' ``client`` fixture go through here, so a lab
behaves the same in a lesson and in its checks. Where a lab runs is a backend: in-process
by default, and the grader's sandboxed backend when the grading plugin installs it
(``use_backend``). Apps, several at once, and commands go through the same seam, so a
self-check never loads grading code, and a check is written once for both.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from asgi_lifespan import LifespanManager

from . import check_forks
from .compat import CrossTaskWebSocketTransport
from .config import COMMAND_TIMEOUT, LIFESPAN_TIMEOUT, QUERY_TIMEOUT, REQUEST_TIMEOUT, ROOT_ENV
from .layout import tree_root
from .safe_fs import read_directory

if TYPE_CHECKING:
    from sqlalchemy import Engine

BASE_URL = "http://testserver"


@dataclass(frozen=True)
class CountedDatabase:
    """A database whose statements the machinery counts, for checks about N+1 queries.

    ``url`` is what the check gives the app; ``statements()`` is how many statements have
    run on it so far; ``rows()`` how many rows each of its tables holds.
    """

    url: str
    statements: Callable[[], int]
    rows: Callable[[], dict[str, int]]


@dataclass(frozen=True)
class SharedDirectory:
    """A directory the check gives the app (through its environment) and reads from outside, while it runs.

    An app that sends mail to a folder, say: ``files()`` is what the folder holds now, name → bytes.
    """

    path: str
    files: Callable[[], dict[str, bytes]]


@dataclass
class AppReport:
    """What a check learns about its app besides the responses: what it raised and warned about."""

    errors: list[BaseException] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)


def _forget(package: str) -> None:
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        del sys.modules[name]


def import_lab(lesson: str, *, fresh: bool = True) -> ModuleType:
    """Import ``labs.<lesson>.app`` from the tree under test.

    ``fresh`` drops every ``labs`` module first, so edits made since the last
    import are picked up without restarting the interpreter.
    """
    root = str(tree_root())
    if sys.path[0] != root:
        if root in sys.path:
            sys.path.remove(root)
        sys.path.insert(0, root)
    cached = sys.modules.get("labs")
    if fresh or (cached is not None and os.path.join(root, "labs") not in list(cached.__path__)):
        _forget("labs")  # also when the cached labs came from another tree
        importlib.invalidate_caches()
    return importlib.import_module(f"labs.{lesson}.app")


@contextmanager
def environment(overrides: Mapping[str, str] | None) -> Iterator[None]:
    """Set environment variables for the duration of an app's creation."""
    saved = {key: os.environ.get(key) for key in overrides or {}}
    os.environ.update(overrides or {})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def create_app(lesson: str, *, env: Mapping[str, str] | None = None, fresh: bool = True) -> Any:
    """A new app instance from the lab's factory, its settings read under ``env``."""
    module = import_lab(lesson, fresh=fresh)
    with environment(env):
        return module.create_app()


WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss"}


class ErrorRecorder:
    """ASGI wrapper that keeps the exceptions an app raised, to explain a 500 later.

    It also gives a WebSocket the ``ws``/``wss`` scheme a server would: the in-process
    transport passes on the ``http`` of the URL it was given.
    """

    def __init__(self, app: Any, errors: list[BaseException]) -> None:
        self.app, self.errors = app, errors

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and scope.get("scheme") in WEBSOCKET_SCHEMES:
            scope = {**scope, "scheme": WEBSOCKET_SCHEMES[scope["scheme"]]}
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            self.errors.append(exc)
            raise


@asynccontextmanager
async def serve_in_process(app: Any, errors: list[BaseException] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and yield a client that calls it without a socket.

    An unhandled exception becomes a 500 response, as behind a real server, and is
    appended to ``errors``.
    """
    async with LifespanManager(app, startup_timeout=LIFESPAN_TIMEOUT, shutdown_timeout=LIFESPAN_TIMEOUT) as manager:
        recorder = ErrorRecorder(manager.app, errors if errors is not None else [])
        # httpx's ASGITransport as httpx-ws extends it: it also carries WebSockets (httpx_ws.aconnect_ws).
        transport = CrossTaskWebSocketTransport(app=recorder, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=REQUEST_TIMEOUT) as client:
            yield client


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    output: str


class InProcessLabs:
    """The default backend: the app runs in this interpreter, commands in a subprocess of it."""

    @contextmanager
    def shared_directory(self) -> Iterator[SharedDirectory]:
        from .resources import get_resources

        directory = Path(tempfile.mkdtemp(prefix="shared-", dir=get_resources().tmpdir))
        yield SharedDirectory(str(directory), lambda: read_directory(directory))

    @contextmanager
    def counted_database(self) -> Iterator[CountedDatabase]:
        """A new SQLite file of this run; every engine on it counts its statements here."""
        from sqlalchemy import event
        from sqlalchemy.engine import Engine, make_url

        from .resources import get_resources

        url = get_resources().new_database("counted", sqlite=True)  # as the grader's gateway: SQLite in every mode
        path = os.path.realpath(make_url(url).database or "")
        counted = [0]

        def count(connection: Any, *_: Any) -> None:
            if os.path.realpath(connection.engine.url.database or "") == path:
                counted[0] += 1

        def rows() -> dict[str, int]:
            with closing(sqlite3.connect(path)) as database:
                names = [row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                return {name: database.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}

        event.listen(Engine, "before_cursor_execute", count)
        try:
            yield CountedDatabase(url, lambda: counted[0], rows)
        finally:
            event.remove(Engine, "before_cursor_execute", count)

    def open(
        self, lesson: str, env: Mapping[str, str], report: AppReport, *, fresh: bool = True
    ) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return serve_in_process(create_app(lesson, env=env, fresh=fresh), report.errors)

    def run_command(
        self,
        module: str,
        args: Sequence[str],
        env: Mapping[str, str],
        timeout: float,
        lesson: str | None,
        labs: Path | None = None,
    ) -> CommandResult:
        from .tree import implementation_tree

        timed_out = CommandResult(-1, f"Timeout: python -m {module} did not finish within {timeout:g} s")
        with implementation_tree(labs or "labs") as root, tempfile.TemporaryDirectory(prefix="course-cmd-") as scratch:
            child_env = {**os.environ, **env, ROOT_ENV: str(root)}
            forks = check_forks.shared.get(COMMAND_TIMEOUT)
            if forks is not None:  # a warm fork: pytest and alembic without their imports again
                ran = forks.run(module, list(args), root, child_env, Path(scratch) / "output.txt", timeout)
                return timed_out if ran is None else CommandResult(*ran)
            try:
                completed = subprocess.run(
                    [sys.executable, "-m", module, *args],
                    cwd=root,
                    env=child_env,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                )
            except subprocess.TimeoutExpired:
                return timed_out
        return CommandResult(completed.returncode, completed.stdout + completed.stderr)


class LabBackend(Protocol):
    """Where labs run: in-process by default; the grader installs its sandboxed backend."""

    def counted_database(self) -> AbstractContextManager[CountedDatabase]: ...

    def shared_directory(self) -> AbstractContextManager[SharedDirectory]: ...

    def open(
        self, lesson: str, env: Mapping[str, str], report: AppReport, *, fresh: bool = True
    ) -> AbstractAsyncContextManager[httpx.AsyncClient]: ...

    def run_command(
        self,
        module: str,
        args: Sequence[str],
        env: Mapping[str, str],
        timeout: float,
        lesson: str | None,
        labs: Path | None = None,
    ) -> CommandResult: ...


_backend: LabBackend = InProcessLabs()


def use_backend(backend: LabBackend | None) -> None:
    """Run labs through ``backend`` from now on (None: in-process again). Only the grader calls it."""
    global _backend
    _backend = backend or InProcessLabs()


def open_lab(
    lesson: str,
    *,
    env: Mapping[str, str] | None = None,
    fresh: bool = True,
    report: AppReport | None = None,
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """Create the lab's app and an ``httpx.AsyncClient`` bound to it, as an async context manager.

    What the app raises goes to ``report.errors``; a sandboxed app's warnings are read
    from its logs into ``report.advice`` (in-process they reach the caller as warnings).
    """
    return _backend.open(lesson, dict(env or {}), report or AppReport(), fresh=fresh)


def outside_engine(url: str, *, seconds: float = QUERY_TIMEOUT) -> Engine:
    """An engine for reading a lab's database from outside, as a check does: no statement runs longer than ``seconds``.

    A learner's migration may leave a view that never ends; reading it must fail the
    check, not hang it. SQLite also enforces foreign keys only when a connection asks.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    if not url.startswith("sqlite"):
        return create_engine(
            url, poolclass=NullPool, connect_args={"options": f"-c statement_timeout={int(seconds * 1000)}"}
        )
    engine = create_engine(url, poolclass=NullPool)

    def limit(connection: Any, _: Any) -> None:
        deadline = time.monotonic() + seconds
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        connection.execute("PRAGMA foreign_keys = ON")

    event.listen(engine, "connect", limit)
    return engine


def shared_directory() -> AbstractContextManager[SharedDirectory]:
    """A directory the app may write (give it its ``path``) and the check reads from outside, safely, at any time."""
    return _backend.shared_directory()


def counted_database() -> AbstractContextManager[CountedDatabase]:
    """A database whose statements are counted where the app cannot reach (the check gives the app its URL)."""
    return _backend.counted_database()


def run_lab_command(
    module: str,
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = COMMAND_TIMEOUT,
    lesson: str | None = None,
    labs: Path | None = None,
) -> CommandResult:
    """Run ``python -m module args`` on the lab code of the tree under test (e.g. Alembic).

    Self-checks run it as a subprocess. Under the grader it runs in a jail, which sees
    the databases named in ``env`` as copies; naming the ``lesson`` whose lab the command
    loads lets the grader start it from that lab already imported. ``labs`` runs it on another
    implementation than the tree's (a directory of lesson packages the check built, such as the
    course's app with a learner's tests in it). Either way the caller judges the result from
    outside: the exit code, the output, the database.
    """
    return _backend.run_command(module, list(args), dict(env or {}), timeout, lesson, labs)
