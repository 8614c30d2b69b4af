"""Errors of the chat, and how each transport reports them.

Over HTTP an error is ``{"detail": "..."}`` with a status code. A WebSocket has no status
code once it is open: a refused connection is closed with a close code (1008, policy violation)
and a reason that is the same JSON, and a bad message gets an error frame,
``{"type": "error", "detail": "..."}``, on a connection that stays open. Never an HTML page:
the client on the other end is a script that parses JSON.
"""

import json
from typing import Any

from fastapi import FastAPI, Request, WebSocketException, status
from fastapi.responses import JSONResponse

from .schemas import ErrorResponse

BEARER = {"WWW-Authenticate": "Bearer"}
ERROR_DESCRIPTIONS = {
    status.HTTP_401_UNAUTHORIZED: "No valid access token, or wrong username or password",
    status.HTTP_409_CONFLICT: "The username is taken",
    status.HTTP_422_UNPROCESSABLE_CONTENT: "The request or the message is not valid",
}
# A close frame's reason holds at most 123 bytes of UTF-8.
MAX_REASON_BYTES = 123


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` that document these error statuses in the OpenAPI schema."""
    return {code: {"model": ErrorResponse, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


def json_error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The same, for a route whose own answer is not JSON (an event stream): its errors still are."""
    schema = {"$ref": "#/components/schemas/ErrorResponse"}
    return {
        code: {"description": ERROR_DESCRIPTIONS[code], "content": {"application/json": {"schema": schema}}}
        for code in codes
    }


class ChatError(Exception):
    """An error a client can act on: a status code, a detail in words, and headers if the status needs them."""

    status_code = status.HTTP_400_BAD_REQUEST
    headers: dict[str, str] | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotAuthenticated(ChatError):
    status_code = status.HTTP_401_UNAUTHORIZED
    headers = BEARER

    def __init__(self, detail: str = "Not authenticated: send a valid access token") -> None:
        super().__init__(detail)


class InvalidCredentials(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__("Incorrect username or password")


class UsernameTaken(ChatError):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self) -> None:
        super().__init__("This username is taken")


class InvalidMessage(ChatError):
    """A message the chat refuses: over HTTP a 422, over the WebSocket an error frame."""

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT


def close_reason(detail: str) -> str:
    """The reason of a close frame: ``{"detail": "..."}``, short enough for a close frame."""
    reason = json.dumps({"detail": detail})
    if len(reason.encode()) > MAX_REASON_BYTES:
        raise ValueError(f"close reason too long: {reason}")
    return reason


def refuse(detail: str) -> WebSocketException:
    """What a WebSocket route raises to close the connection with 1008 and a JSON reason."""
    return WebSocketException(code=status.WS_1008_POLICY_VIOLATION, reason=close_reason(detail))


async def chat_error_handler(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": getattr(exc, "detail", str(exc))},
        status_code=getattr(exc, "status_code", 400),
        headers=getattr(exc, "headers", None),
    )


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ChatError, chat_error_handler)
