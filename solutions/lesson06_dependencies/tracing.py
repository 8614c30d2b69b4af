"""A printed trace of each request's steps, to watch dependencies run: SHOP_TRACE=true turns it on.

Dependencies and routes call ``log.debug(...)``. With tracing off (the default) those lines
cost next to nothing and print nothing.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("shop.trace")


class PrintHandler(logging.Handler):
    """Prints to the current ``sys.stdout``, which a notebook replaces with each cell."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), flush=True)


@contextmanager
def tracing(enabled: bool) -> Iterator[None]:
    """Print the trace while the block runs (an app's lifespan), if ``enabled``."""
    if not enabled:
        yield
        return
    handler = PrintHandler()
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        if not log.handlers:
            log.setLevel(logging.NOTSET)
            log.propagate = True


class TraceResponses:
    """ASGI middleware (installed only with SHOP_TRACE): a trace line as each response starts to go out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def traced_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                log.debug("-- response %s sent --", message["status"])
            await send(message)

        await self.app(scope, receive, traced_send)
