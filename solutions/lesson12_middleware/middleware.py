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
        # BEGIN SOLUTION 12.1: Set X-Request-ID and X-Process-Time on every response; log one JSON line per request
        started = time.perf_counter()
        sent = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = sent if sent is not None and REQUEST_ID.fullmatch(sent) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # what the client gets if the app raises before it answers

        async def send_with_context(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                headers[PROCESS_TIME_HEADER] = f"{time.perf_counter() - started:.6f}"
            await send(message)

        token = current_request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_context)
        finally:
            current_request_id.reset(token)
            self.access_log.write(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration": round(time.perf_counter() - started, 6),
                    "request_id": request_id,
                }
            )
        # STUB
        # await self.app(scope, receive, send)
        # END SOLUTION


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
        # BEGIN SOLUTION 12.3: Add CSP and nosniff to every response, and HSTS to responses to https requests
        route_path = scope["path"].removeprefix(scope.get("root_path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if route_path not in DOCS_PATHS:
                    headers["Content-Security-Policy"] = API_CSP
                if scope["scheme"] == "https":
                    headers["Strict-Transport-Security"] = f"max-age={self.hsts_seconds}; includeSubDomains"
            await send(message)

        await self.app(scope, receive, send_with_headers)
        # STUB
        # await self.app(scope, receive, send)
        # END SOLUTION


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
        # BEGIN SOLUTION 12.4: Give the app the prefix in scope["root_path"], and the path as seen from outside
        # What uvicorn does with --root-path: root_path is the prefix, and path the full path with it.
        path = self.root_path + scope["path"]
        raw_path = self.root_path.encode() + scope.get("raw_path", scope["path"].encode())
        await self.app({**scope, "root_path": self.root_path, "path": path, "raw_path": raw_path}, receive, send)
        # STUB
        # await self.app(scope, receive, send)
        # END SOLUTION
