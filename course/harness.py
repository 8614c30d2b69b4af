"""Load a lab app from the tree under test and talk to it in-process.

Both the notebook helpers and the checks' ``client`` fixture go through here, so
a lab behaves the same in a lesson and in its checks.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from .grading import grading
from .layout import tree_root
from .statements import StatementCounter

BASE_URL = "http://testserver"
LIFESPAN_TIMEOUT = 10.0
REQUEST_TIMEOUT = 10.0


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


class ErrorRecorder:
    """ASGI wrapper that keeps the exceptions an app raised, to explain a 500 later."""

    def __init__(self, app: Any, errors: list[BaseException]) -> None:
        self.app, self.errors = app, errors

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            self.errors.append(exc)
            raise


@asynccontextmanager
async def serve_in_process(
    app: Any, errors: list[BaseException] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and yield a client that calls it without a socket.

    An unhandled exception becomes a 500 response, as behind a real server, and is
    appended to ``errors``.
    """
    async with LifespanManager(app, startup_timeout=LIFESPAN_TIMEOUT, shutdown_timeout=LIFESPAN_TIMEOUT) as manager:
        recorder = ErrorRecorder(StatementCounter(manager.app), errors if errors is not None else [])
        transport = httpx.ASGITransport(app=recorder, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=REQUEST_TIMEOUT) as client:
            yield client


@asynccontextmanager
async def open_lab(
    lesson: str,
    *,
    env: Mapping[str, str] | None = None,
    fresh: bool = True,
    errors: list[BaseException] | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """Create the lab's app and yield an ``httpx.AsyncClient`` bound to it.

    Under the grader (``COURSE_GRADE_ZYGOTE`` set), the app runs in a sandboxed
    process instead and the client talks to it over a unix socket.
    """
    if grading():
        from .grading import remote

        async with remote.open_remote_lab(lesson, env, errors if errors is not None else []) as client:
            yield client
        return
    async with serve_in_process(create_app(lesson, env=env, fresh=fresh), errors) as client:
        yield client


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    output: str


def run_lab_command(
    module: str,
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    lesson: str | None = None,
) -> CommandResult:
    """Run ``python -m module args`` on the lab code of the tree under test (e.g. Alembic).

    Self-checks run it as a subprocess. Under the grader it runs in a sandbox, which may
    write only to the SQLite databases named in ``env``; naming the ``lesson`` whose lab
    the command loads lets the grader start it from that lab already imported. Either
    way the caller judges the result from outside: the exit code, the output, the database.
    """
    if grading():
        from .grading import remote

        return remote.run_remote_command(module, list(args), dict(env or {}), timeout, lesson)
    try:
        completed = subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=tree_root(),
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return CommandResult(-1, f"Timeout: python -m {module} did not finish within {timeout:g} s")
    return CommandResult(completed.returncode, completed.stdout + completed.stderr)
