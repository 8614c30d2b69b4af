"""Inside a jail: one long-lived process serves a fresh app per check, or several at once.

A lab host forks this runner once; for every check the trusted side asks it, on
``NAME.ctl``, to ``serve`` a new app (the factory called under the check's
environment, its lifespan run) and to ``stop`` it afterwards. All apps share one
uvicorn server on ``NAME.sock``; each request names its app in the ``x-course-app``
header, which the runner removes before the app sees the request. So a check can
run two instances of a lab side by side (a rate limit shared through Redis, say), as
in-process checks create them in one interpreter. Forking and starting a server per
check would cost more than most checks. Each app writes its output to its own log;
an app that hangs the process makes ``stop`` go unanswered, and the trusted side
then kills the runner and forks another.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import traceback
from pathlib import Path
from typing import Any

from ..protocol import MAX_LINE, answer_async

APP_HEADER = b"x-course-app"
SCHEME_HEADER = b"x-course-scheme"
SAFE_APP_NAME = re.compile(r"^app-\d+$")
# The peer an app sees: what httpx's ASGITransport reports in-process, so that an app judging its
# client (proxy headers trusted from one address, say) gets one verdict in both. A unix socket has none.
CLIENT = ("127.0.0.1", 123)
NOT_SERVING = json.dumps({"detail": "no such app is being served"}).encode()


class AppRunner:
    def __init__(self, module: Any, workdir: Path) -> None:
        self.module, self.workdir = module, workdir
        self.apps: dict[str, Any] = {}
        self.lifespans: dict[str, contextlib.AsyncExitStack] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """The ASGI app uvicorn serves: it hands each request to the app its header names."""
        if scope["type"] == "lifespan":
            return
        ours = {key: value.decode() for key, value in scope.get("headers", []) if key in (APP_HEADER, SCHEME_HEADER)}
        app = self.apps.get(ours.get(APP_HEADER, ""))
        if app is not None:
            headers = [(key, value) for key, value in scope["headers"] if key not in (APP_HEADER, SCHEME_HEADER)]
            scheme = {"https": {"http": "https", "websocket": "wss"}}.get(ours.get(SCHEME_HEADER, ""), {})
            await app(
                {**scope, "headers": headers, "scheme": scheme.get(scope["type"], scope["scheme"]), "client": CLIENT},
                receive,
                send,
            )
            return
        if scope["type"] == "http":
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": NOT_SERVING})

    async def op_serve(self, name: str, env: dict[str, str]) -> dict[str, Any]:
        from asgi_lifespan import LifespanManager

        from ..config import LIFESPAN_TIMEOUT
        from ..harness import environment
        from .lab_host import child_output

        if not SAFE_APP_NAME.match(name) or name in self.apps:
            raise ValueError(f"bad app name {name!r}")
        child_output(self.workdir / f"{name}.log")
        stack = contextlib.AsyncExitStack()
        try:
            with environment(env):
                app = self.module.create_app()
            manager = await stack.enter_async_context(
                LifespanManager(app, startup_timeout=LIFESPAN_TIMEOUT, shutdown_timeout=LIFESPAN_TIMEOUT)
            )
        except BaseException:
            traceback.print_exc()
            await stack.aclose()
            return {"started": False}
        self.lifespans[name], self.apps[name] = stack, manager.app
        return {"started": True}

    async def op_stop(self, name: str) -> dict[str, Any]:
        self.apps.pop(name, None)
        stack = self.lifespans.pop(name, None)
        if stack is not None:
            try:
                await stack.aclose()
            except BaseException:
                traceback.print_exc()
        return {"stopped": True}

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            if not line or len(line) > MAX_LINE:  # the trusted side only looked whether the runner listens
                return
            _, reply = await answer_async(line, self)
            writer.write(reply)
            await writer.drain()
        finally:
            writer.close()

    async def main(self, name: str) -> None:
        import uvicorn

        http = str(self.workdir / f"{name}.sock")
        # No proxy headers here: the lab under test decides whom it trusts, as it does in-process.
        config = uvicorn.Config(
            self, uds=http, lifespan="off", log_level="warning", access_log=False, proxy_headers=False
        )
        control = await asyncio.start_unix_server(self.control, path=str(self.workdir / f"{name}.ctl"), limit=MAX_LINE)
        async with control:
            await uvicorn.Server(config).serve()


def run(module: Any, workdir: Path, name: str) -> None:
    asyncio.run(AppRunner(module, workdir).main(name))
