"""Swagger UI without a CDN, for labs served with ``serve()`` or ``course serve``.

FastAPI's ``/docs`` page loads Swagger UI from a CDN, which a machine without
internet (a classroom, CI) cannot reach, and the page stays blank. This wrapper
serves the same Swagger UI 5 files from the ``swagger-ui-bundle-v2`` package and
points the page at them. The lab itself is left exactly as the learner wrote it.
"""

from __future__ import annotations

from typing import Any

from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CDN_PREFIX = b"https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
ASSETS_PATH = "/_course/swagger-ui/"


def _assets() -> StaticFiles:
    from swagger_ui_bundle import swagger_ui_path

    return StaticFiles(directory=str(swagger_ui_path))


class OfflineDocs:
    """Serve Swagger UI's assets locally and rewrite the docs page to use them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.assets = _assets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root_path = scope.get("root_path", "")
        path = scope["path"].removeprefix(root_path) if root_path else scope["path"]
        if path.startswith(ASSETS_PATH):
            await self.assets({**scope, "path": "/" + path.removeprefix(ASSETS_PATH), "root_path": ""}, receive, send)
            return
        await self.app(scope, receive, _Rewriter(send, (root_path + ASSETS_PATH).encode()))


class _Rewriter:
    """Buffers an HTML response and swaps the CDN prefix for the local one."""

    def __init__(self, send: Send, local_prefix: bytes) -> None:
        self.send, self.local_prefix = send, local_prefix
        self.start: Message | None = None
        self.body = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers: list[Any] = message["headers"]
            if any(key == b"content-type" and value.startswith(b"text/html") for key, value in headers):
                self.start = message
                return
        elif message["type"] == "http.response.body" and self.start is not None:
            self.body += message.get("body", b"")
            if message.get("more_body"):
                return
            body = self.body.replace(CDN_PREFIX, self.local_prefix)
            headers = [(key, value) for key, value in self.start["headers"] if key != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await self.send({**self.start, "headers": headers})
            await self.send({"type": "http.response.body", "body": body})
            return
        await self.send(message)
