"""Helpers for lesson notebooks: ``lab``, ``show``, ``serve`` and ``check``.

Inside a kernel, top-level ``await`` works while ``asyncio.run()`` does not, so
``lab`` and ``serve`` are coroutines. Every wait is bounded: a hung lab becomes an
error message, never a cell that cannot be interrupted.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import socket
import sys
import threading
from contextlib import AsyncExitStack
from typing import Any

import httpx

from . import check_forks, harness
from .checks import render, run_checks
from .config import LAB_START_TIMEOUT, get_settings
from .offline_docs import OfflineDocs

# Headers worth showing in a lesson; the rest is noise such as content-length.
SHOWN_HEADERS = (
    "allow",
    "cache-control",
    "content-type",
    "etag",
    "location",
    "retry-after",
    "set-cookie",
    "vary",
    "www-authenticate",
    "x-request-id",
)
BODY_LIMIT = 1200

_open_lab: AsyncExitStack | None = None
_servers: dict[str, Any] = {}


async def lab(lesson: str, *, env: dict[str, str] | None = None) -> httpx.AsyncClient:
    """Import ``labs.<lesson>`` afresh, start its lifespan and return a client for it.

    Calling ``lab`` again closes the previous app first.
    """
    global _open_lab
    await close_lab()
    stack = AsyncExitStack()
    client = await asyncio.wait_for(stack.enter_async_context(harness.open_lab(lesson, env=env)), LAB_START_TIMEOUT)
    _open_lab = stack
    print(f"{lesson} is running in-process ({get_settings().mode} mode)")
    return client


async def close_lab() -> None:
    global _open_lab
    if _open_lab is not None:
        stack, _open_lab = _open_lab, None
        await asyncio.wait_for(stack.aclose(), LAB_START_TIMEOUT)


def show(response: httpx.Response, *, headers: tuple[str, ...] = ()) -> None:
    """Print a response in a stable, readable form: request, status, chosen headers, body."""
    request = response.request
    target = request.url.raw_path.decode("ascii")
    print(f"{request.method} {target}")
    print(f"{response.status_code} {response.reason_phrase}")
    for name in sorted({*SHOWN_HEADERS, *(header.lower() for header in headers)}):
        if name in response.headers:
            print(f"{name}: {response.headers[name]}")
    body = _body_text(response)
    if body:
        print(body)


def _body_text(response: httpx.Response) -> str:
    if "json" in response.headers.get("content-type", ""):
        try:
            return json.dumps(response.json(), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    text = response.text
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + f"… ({len(text)} characters)"


if "ipykernel" in sys.modules:
    check_forks.shared.start()  # warm while the learner reads the lesson


def check(*selectors: str) -> None:
    """Run the checks of an exercise (``"1.2"``) or lesson against ``labs/`` and show a table.

    It returns nothing, so the cell shows the table alone. With ``COURSE_STRICT=1`` a
    failure raises, so that a notebook run fails.
    """
    run = run_checks(selectors, forks=check_forks.shared.get(LAB_START_TIMEOUT))
    render(run)
    if get_settings().strict and not run.passed:
        failed = ", ".join(sorted({result.exercise for result in run.results if not result.passed}))
        raise AssertionError(f"checks failed for exercise {failed}")


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _proxy_prefix(port: int) -> str | None:
    """The path under which jupyter-server-proxy reaches ``port``, when running under Jupyter."""
    if "JPY_SESSION_NAME" not in os.environ and "JUPYTERHUB_SERVICE_PREFIX" not in os.environ:
        return None
    base = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/").rstrip("/")
    return f"{base}/proxy/{port}"


async def serve(lesson: str, *, env: dict[str, str] | None = None) -> str:
    """Serve the lab on a free 127.0.0.1 port in a background thread and link its Swagger UI.

    Returns the docs URL. Serving the same lesson again replaces the previous server.
    """
    import uvicorn

    stop_serving(lesson)
    sock = _free_socket()
    port = sock.getsockname()[1]
    prefix = _proxy_prefix(port)
    app = OfflineDocs(harness.create_app(lesson, env=env))
    config = uvicorn.Config(app, log_level="warning", root_path=prefix or "", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LAB_START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or loop.time() > deadline:
            server.should_exit = True
            raise RuntimeError(f"{lesson} did not start serving within {LAB_START_TIMEOUT:.0f} s")
        await asyncio.sleep(0.02)
    _servers[lesson] = (server, thread, sock)
    direct = f"http://127.0.0.1:{port}/docs"
    url = f"{prefix}/docs" if prefix else direct
    _announce(lesson, url, direct)
    return direct


def _announce(lesson: str, url: str, direct: str) -> None:
    if "ipykernel" in sys.modules:
        ipython: Any = importlib.import_module("IPython.display")  # untyped
        ipython.display(ipython.HTML(f'<a href="{url}" target="_blank">Open the Swagger UI of {lesson}</a>'))
    print(f"{lesson} is serving at {direct}")


def stop_serving(lesson: str | None = None) -> None:
    """Stop one served lab, or all of them."""
    for name in [lesson] if lesson else list(_servers):
        entry = _servers.pop(name, None) if name else None
        if entry is None:
            continue
        server, thread, sock = entry
        server.should_exit = True
        thread.join(LAB_START_TIMEOUT)
        sock.close()
