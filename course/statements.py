"""Count the SQL statements each request sends, wherever the app runs.

Checks about N+1 queries need the count, and under the grader the app runs in
another process. So the harness (in-process) and the sandbox's app server wrap
every lab in the same middleware, which reports the count in a response header.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-course-sql-statements"
_counter: ContextVar[list[int] | None] = ContextVar("course_sql_statements", default=None)
_listening = False


def _count(*_: Any) -> None:
    if (box := _counter.get()) is not None:
        box[0] += 1


def _listen_once() -> None:
    """Listen on SQLAlchemy's Engine class, which hears every engine, once the lab uses SQLAlchemy."""
    global _listening
    if _listening or "sqlalchemy.engine" not in sys.modules:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "before_cursor_execute", _count)
    _listening = True


class StatementCounter:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        _listen_once()
        box = [0]
        token = _counter.set(box)  # copied into the thread pool with the request's context

        async def send_with_count(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (HEADER.encode(), str(box[0]).encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_count)
        finally:
            _counter.reset(token)
