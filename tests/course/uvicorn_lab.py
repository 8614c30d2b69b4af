"""A lab served by uvicorn in a process of its own, as in production, for the browser tests."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def uvicorn_lab(
    app: str, tree: Path, logs: Path, *, ready: str = "/", env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Iterator[str]:
    """``app`` (``labs.lessonNN_x.app:app``) of ``tree`` under uvicorn on a free port, once ``ready`` answers 200.

    It starts in ``cwd`` (the tree by default) with the tree importable, and yields the base URL.
    """
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    log_path = logs / "uvicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command,
            cwd=cwd or tree,
            env={**os.environ, **(env or {}), "PYTHONPATH": str(tree)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if httpx.get(f"{base}{ready}", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                pytest.fail(f"uvicorn did not serve {ready}:\n{log_path.read_text()[-2000:]}")
            yield base
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
