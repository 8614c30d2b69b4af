"""Assertions that say what was sent, what was expected and what came back."""

import httpx

BODY_LIMIT = 300


def describe(response: httpx.Response) -> str:
    """``GET /users/999`` with its status and a short body, for assertion messages."""
    request = response.request
    body = response.text
    if len(body) > BODY_LIMIT:
        body = body[:BODY_LIMIT] + "…"
    return f"{request.method} {request.url.raw_path.decode()} → got {response.status_code} {body}"


def expect_status(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, f"{describe(response)}; expected {status}"
