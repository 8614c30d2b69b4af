"""The trusted side of a sandboxed lab: spawn it through the zygote, talk to it over its socket.

When ``COURSE_GRADE_ZYGOTE`` is set, ``harness.open_lab`` comes here, so the same
checks run unchanged against an app in another process. Each check gets a fresh
sandbox, as it gets a fresh app in-process, and the sandbox is killed afterwards.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx

from ..harness import CommandResult
from ..layout import tree_root
from ..resources import RunResources
from .zygote import SOCKET_ENV, Client

OWNER_ENV = "COURSE_GRADE_OWNER"
START_TIMEOUT_ENV = "COURSE_GRADE_START_TIMEOUT"
LOG_SETTLE = 0.5
EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(?P<name>[A-Z]\w*(?:Error|Exception|Exit|Interrupt))(?::\s?(?P<text>.*))?$")


# Labs that could not start, by lesson and environment: the next check is told at once
# instead of waiting for the same hang or crash again.
_failed_starts: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}


class RemoteAppError(Exception):
    """What the sandboxed app raised, as its log tells it."""


def enabled() -> bool:
    return bool(os.environ.get(SOCKET_ENV))


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


async def _wait_until_serving(zygote: Client, pid: int, socket_path: str) -> None:
    limit = float(os.environ.get(START_TIMEOUT_ENV, "15"))
    with anyio.move_on_after(limit):
        while not os.path.exists(socket_path):
            status = await anyio.to_thread.run_sync(lambda: zygote.request("status", pid=pid))
            if not status["alive"]:
                raise AssertionError(f"the lab did not start (exit code {status['exit']}):\n{_tail(status['log'])}")
            await anyio.sleep(0.01)
        return
    raise AssertionError(f"Timeout: the lab did not start within {limit:g} s (stuck while importing?)")


@asynccontextmanager
async def open_remote_lab(
    lesson: str, env: Mapping[str, str] | None, errors: list[BaseException]
) -> AsyncIterator[httpx.AsyncClient]:
    key = (lesson, tuple(sorted((env or {}).items())))
    if key in _failed_starts:
        raise AssertionError(_failed_starts[key] + " (in an earlier check; not tried again)")
    zygote = Client(os.environ[SOCKET_ENV])
    spawned = await anyio.to_thread.run_sync(
        lambda: zygote.request(
            "spawn", tree=str(tree_root()), owner=os.environ.get(OWNER_ENV, ""), lesson=lesson,
            env=dict(env or {}), writable=writable_paths(env or {}),
        )  # fmt: skip
    )
    pid: int = spawned["pid"]

    async def note_server_errors(response: httpx.Response) -> None:
        if response.status_code < 500:
            return
        with anyio.move_on_after(LOG_SETTLE):  # the app logs its traceback just after it answers
            while True:
                status = await anyio.to_thread.run_sync(lambda: zygote.request("status", pid=pid))
                if error := last_exception(status["log"]):
                    errors.append(error)
                    return
                await anyio.sleep(0.02)

    try:
        try:
            await _wait_until_serving(zygote, pid, spawned["socket"])
        except AssertionError as failure:
            _failed_starts[key] = str(failure)
            raise
        transport = httpx.AsyncHTTPTransport(uds=spawned["socket"])
        hooks: dict[str, list[Any]] = {"response": [note_server_errors]}
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", event_hooks=hooks) as client:
            yield client
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(lambda: zygote.request("kill", pid=pid))


def run_remote_command(module: str, args: list[str], env: dict[str, str], timeout: float) -> CommandResult:
    """``python -m module args`` in a sandbox, waited for up to ``timeout`` seconds."""
    zygote = Client(os.environ[SOCKET_ENV])
    spawned = zygote.request(
        "spawn", tree=str(tree_root()), owner=os.environ.get(OWNER_ENV, ""),
        module=module, args=args, env=env, writable=writable_paths(env),
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = zygote.request("status", pid=spawned["pid"])
        if not status["alive"]:
            zygote.request("kill", pid=spawned["pid"])
            return CommandResult(status["exit"], status["log"])
        time.sleep(0.02)
    final = zygote.request("kill", pid=spawned["pid"])
    return CommandResult(-1, f"Timeout: python -m {module} did not finish within {timeout:g} s\n{final['log']}")
