"""Assertions that say what was sent, what was expected and what came back."""

from typing import Any

import httpx

BODY_LIMIT = 300
# Headers every httpx request carries; the rest were chosen by the check, so messages show them.
ROUTINE_HEADERS = {"accept", "accept-encoding", "connection", "content-length", "content-type", "host", "user-agent"}


def describe(response: httpx.Response) -> str:
    """``GET /trades/mine [X-User-Id: 9] → got 200 []``: the request and a short form of the response."""
    request = response.request
    sent = ", ".join(
        f"{name.decode()}: {value.decode()}"
        for name, value in request.headers.raw
        if name.decode().lower() not in ROUTINE_HEADERS
    )
    body = response.text
    if len(body) > BODY_LIMIT:
        body = body[:BODY_LIMIT] + "…"
    target = request.url.raw_path.decode() + (f" [{sent}]" if sent else "")
    return f"{request.method} {target} → got {response.status_code} {body}"


def expect_status(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, f"{describe(response)}; expected {status}"


def expect_json(response: httpx.Response, status: int = 200) -> Any:
    """Assert the status, then return the JSON body (failing readably if there is none)."""
    expect_status(response, status)
    try:
        return response.json()
    except ValueError:
        raise AssertionError(f"{describe(response)}; expected a JSON body") from None
