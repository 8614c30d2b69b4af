"""Pure ASGI middleware: a request id, timing and the access log; security headers; the root path.

A pure ASGI middleware is a class with ``__call__(scope, receive, send)`` that calls the app it
wraps. It sees every request and every message of every response, streamed or not, in the same
task as the app: no copy of the response, no task of its own. To change a response, it wraps
``send`` and edits the ``http.response.start`` message, which carries the status and headers.
"""

import re
import time
import uuid
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import AccessLog

# A request id we accept from a client: 8 to 64 letters, digits, dots, dashes or underscores.
# Anything else (too long, spaces, quotes, line breaks) is replaced: it would end up in logs.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
REQUEST_ID_HEADER = "X-Request-ID"
PROCESS_TIME_HEADER = "X-Process-Time"

# The id of the request being handled, for any code that logs while handling it.
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


class RequestContextMiddleware:
    """Gives every request an id, times it, and writes one access-log line for it.

    - ``X-Request-ID``: the client's own id if it is well-formed (REQUEST_ID), else a new one;
      on every response, and in ``request.state.request_id`` for the routes.
    - ``X-Process-Time``: seconds from the request's arrival to the response's start.
    - one JSON line per request: method, path (without the query), status, duration, request id.
    """

    def __init__(self, app: ASGIApp, access_log: AccessLog) -> None:
        self.app, self.access_log = app, access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Exercise 12.1: Set X-Request-ID and X-Process-Time on every response; log one JSON line per request
        await self.app(scope, receive, send)


# Swagger UI and ReDoc run scripts and styles: the API's strict policy would leave them blank.
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
API_CSP = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeadersMiddleware:
    """Headers that tell browsers to be careful with this API's responses, on every response.

    - ``Content-Security-Policy``: load nothing, and never be framed (the docs pages excepted);
    - ``X-Content-Type-Options: nosniff``: trust the Content-Type, never guess;
    - ``Strict-Transport-Security``: only on a response to an https request (a browser ignores
      it over http, and a proxy that ends TLS says https in X-Forwarded-Proto).
    """

    def __init__(self, app: ASGIApp, hsts_seconds: int) -> None:
        self.app, self.hsts_seconds = app, hsts_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Exercise 12.3: Add CSP and nosniff to every response, and HSTS to responses to https requests
        await self.app(scope, receive, send)


class RootPathMiddleware:
    """Serve the app under a path prefix that a proxy strips, as ``uvicorn --root-path`` does.

    The proxy maps ``https://example.com/trading/operations`` to ``/operations`` here. The app
    must still know the prefix, to write links a client can follow: ``url_for``, the OpenAPI
    ``servers`` and the docs page all read ``scope["root_path"]``.
    """

    def __init__(self, app: ASGIApp, root_path: str) -> None:
        self.app, self.root_path = app, root_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.root_path:
            await self.app(scope, receive, send)
            return
        # Exercise 12.4: Give the app the prefix in scope["root_path"], and the path as seen from outside
        await self.app(scope, receive, send)
