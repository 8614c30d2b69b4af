"""Inside a sandbox: one long-lived process serves a fresh app per check.

A lab host forks this runner once; for every check the trusted side asks it, on
``NAME.ctl``, to ``serve`` a new app (the factory called under the check's
environment, its lifespan run) and to ``stop`` it afterwards. The apps take
turns behind one uvicorn server on ``NAME.sock``, as in-process checks create a
fresh app per check in one interpreter; forking and starting a server per check
cost more than most checks. Each app writes its output to its own log. An app
that hangs the process makes ``stop`` go unanswered, and the trusted side then
kills the runner and forks another.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import traceback
from pathlib import Path
from typing import Any

SAFE_APP_NAME = re.compile(r"^app-\d+$")
NOT_SERVING = json.dumps({"detail": "no app is being served"}).encode()


class AppRunner:
    def __init__(self, module: Any, workdir: Path) -> None:
        self.module, self.workdir = module, workdir
        self.app: Any = None
        self.lifespan: contextlib.AsyncExitStack | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """The ASGI app uvicorn serves: whichever check's app is current."""
        app = self.app
        if app is not None:
            await app(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": NOT_SERVING})

    async def op_serve(self, name: str, env: dict[str, str]) -> dict[str, Any]:
        from asgi_lifespan import LifespanManager

        from ..harness import LIFESPAN_TIMEOUT, environment
        from ..statements import StatementCounter
        from .lab_host import child_output

        await self.op_stop()
        if not SAFE_APP_NAME.match(name):
            raise ValueError(f"bad app name {name!r}")
        child_output(self.workdir / f"{name}.log")
        stack = contextlib.AsyncExitStack()
        try:
            with environment(env):
                app = self.module.create_app()
            manager = await stack.enter_async_context(
                LifespanManager(app, startup_timeout=LIFESPAN_TIMEOUT, shutdown_timeout=LIFESPAN_TIMEOUT)
            )
        except BaseException:  # noqa: BLE001 - the app's own failure: told in its log
            traceback.print_exc()
            await stack.aclose()
            return {"started": False}
        self.lifespan, self.app = stack, StatementCounter(manager.app)
        return {"started": True}

    async def op_stop(self) -> dict[str, Any]:
        stack, self.lifespan, self.app = self.lifespan, None, None
        if stack is not None:
            try:
                await stack.aclose()
            except BaseException:  # noqa: BLE001 - a failing shutdown is the app's, not the runner's
                traceback.print_exc()
        return {"stopped": True}

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            if not line:  # the trusted side only looked whether the runner listens
                return
            request = json.loads(line)
            op = request.pop("op")
            try:
                reply = await getattr(self, f"op_{op}")(**request)
            except Exception as exc:  # noqa: BLE001 - a bad request must not stop the runner
                reply = {"error": repr(exc)}
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        finally:
            writer.close()

    async def main(self, name: str) -> None:
        import uvicorn

        http = str(self.workdir / f"{name}.sock")
        config = uvicorn.Config(self, uds=http, lifespan="off", log_level="warning", access_log=False)
        control = await asyncio.start_unix_server(self.control, path=str(self.workdir / f"{name}.ctl"))
        async with control:
            await uvicorn.Server(config).serve()


def run(module: Any, workdir: Path, name: str) -> None:
    asyncio.run(AppRunner(module, workdir).main(name))
