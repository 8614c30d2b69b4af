"""Assertions that say what was sent, what was expected and what came back; fixtures every lesson needs."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

BODY_LIMIT = 300
# Headers every httpx request carries; the rest were chosen by the check, so messages show them.
ROUTINE_HEADERS = {"accept", "accept-encoding", "connection", "content-length", "content-type", "host", "user-agent"}


def _short(text: str) -> str:
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…"


def describe(response: httpx.Response) -> str:
    """``POST /trades [X-User-Id: 9] {"side": "hold"} → got 422 {...}``: what was sent and what came back."""
    request = response.request
    headers = ", ".join(
        f"{name.decode()}: {value.decode()}"
        for name, value in request.headers.raw
        if name.decode().lower() not in ROUTINE_HEADERS
    )
    target = request.url.raw_path.decode() + (f" [{headers}]" if headers else "")
    if sent := request.content.decode(errors="replace"):
        target += f" {_short(sent)}"
    return f"{request.method} {target} → got {response.status_code} {_short(response.text)}"


def expect_status(response: httpx.Response, status: int, what: str = "") -> None:
    """Assert the status; ``what`` says in words what the check wanted."""
    assert response.status_code == status, f"{describe(response)}; expected {status}{' ' + what if what else ''}"


def expect_json(response: httpx.Response, status: int = 200, what: str = "") -> Any:
    """Assert the status, then return the JSON body (failing readably if there is none)."""
    expect_status(response, status, what)
    try:
        return response.json()
    except ValueError:
        raise AssertionError(f"{describe(response)}; expected a JSON body") from None


def isolated_settings(prefix: str) -> Callable[..., Iterator[None]]:
    """An autouse fixture: only the environment a check passes to `lab` counts.

    It removes every ``PREFIX*`` variable the caller's shell may hold and runs the check
    in an empty directory, so no stray variable or ``.env`` file changes the lab's settings.
    """

    @pytest.fixture(autouse=True)
    def hermetic_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
        for name in list(os.environ):
            if name.upper().startswith(prefix):
                monkeypatch.delenv(name)
        monkeypatch.chdir(tmp_path)
        yield

    return hermetic_settings
