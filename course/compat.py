"""The few private APIs of our dependencies the machinery relies on, each in one place and tested.

pytest has no public way to run collected items again for another submission,
httpx no public way to give its transport a network backend, and httpx-ws no way to
carry WebSockets without a task group pinned to one task. Should a release change
them, ``tests/course/test_compat.py`` fails here first, not somewhere deep in grading.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import httpcore
import httpx
import pytest
from httpx_ws.transport import ASGIWebSocketTransport


def teardown_all(session: pytest.Session) -> None:
    """Run every pending fixture teardown now (pytest's SetupState, as its runner does at the end)."""
    session._setupstate.teardown_exact(None)


def forget_report_sections(item: pytest.Item) -> None:
    """Drop the captured output of an item's last run, before it runs again for another submission."""
    item._report_sections.clear()


def unix_transport(path: str, backend: httpcore.AsyncNetworkBackend) -> httpx.AsyncHTTPTransport:
    """An httpx transport to the unix socket ``path`` whose connections come from ``backend``."""
    transport = httpx.AsyncHTTPTransport(uds=path, verify=False)  # no TLS here: skip loading CAs
    transport._pool = httpcore.AsyncConnectionPool(uds=path, network_backend=backend)
    return transport


class _StartedStatus:
    """anyio's ``task_status`` for a child started by ``_LooseTasks.start``."""

    def __init__(self, future: asyncio.Future[Any]) -> None:
        self.future = future

    def started(self, value: Any = None) -> None:
        if not self.future.done():
            self.future.set_result(value)


class _LooseTasks:
    """The two task-group methods httpx-ws calls, on plain asyncio tasks.

    An anyio task group must be left in the task that entered it; a notebook opens a
    lab in one cell and closes it in another, and each cell is its own task.
    """

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def start_soon(self, function: Callable[..., Awaitable[Any]], *args: Any) -> None:
        self._spawn(function(*args))

    async def start(self, function: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        started: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        task = self._spawn(function(*args, task_status=_StartedStatus(started)))
        await asyncio.wait({started, task}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            task.result()  # the child's own error, if it raised one
            raise RuntimeError(f"{function!r} ended without reporting that it started")
        return started.result()

    async def aclose(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class CrossTaskWebSocketTransport(ASGIWebSocketTransport):
    """httpx-ws's in-process transport, usable from any task between its enter and its exit."""

    async def __aenter__(self) -> CrossTaskWebSocketTransport:
        self._task_group = _LooseTasks()  # type: ignore[assignment]  # duck-typed: start and start_soon
        self._exit_stack = contextlib.AsyncExitStack()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> None:
        assert self._exit_stack is not None
        await self._exit_stack.aclose()  # open WebSockets: the app sees a disconnect
        await self._task_group.aclose()  # type: ignore[attr-defined]  # our _LooseTasks
