"""Prometheus metrics that add up across worker processes.

With ``uvicorn --workers 4`` (or gunicorn), four processes serve the API, each with its own
memory. A counter kept in one process's memory counts a quarter of the traffic, and whichever
worker answers ``/metrics`` shows only its own. In **multiprocess mode** every process writes
its values to files in ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds up all the files.

The directory must be set before the workers start, and emptied at each deployment: files of
the previous run would be counted again. A worker that ends must be marked dead, or its
``live*`` gauges (requests in progress) stay in the sum.
"""

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, values
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"  # the route label of a request no route matched: never its raw path


class Metrics:
    """The app's metrics, and the registry that ``GET /metrics`` reads."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.registry = CollectorRegistry()
        # prometheus_client picks multiprocess values when PROMETHEUS_MULTIPROC_DIR is set at its
        # import; a server sets it before the workers start. The app says it again for its own metrics.
        values.ValueClass = values.MutexValue if directory is None else values.MultiProcessValue()
        register: CollectorRegistry | None = self.registry
        # Exercise 16.3: In multiprocess mode, serve the sum of every process's files
        self.requests = Counter(
            "store_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=register,
        )
        self.in_progress = Gauge(
            "store_http_requests_in_progress",
            "HTTP requests being handled now, by every live worker together.",
            multiprocess_mode="livesum",
            registry=register,
        )

    def worker_start(self) -> None:
        """What a worker does as it starts: make sure prometheus_client writes where the collector reads.

        prometheus_client reads PROMETHEUS_MULTIPROC_DIR whenever a new series appears (a new
        route or status); a server's workers inherit it, and this keeps it for an app whose
        settings were given another way.
        """
        if self.directory is not None:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(self.directory)

    def worker_stop(self) -> None:
        """Called last as the app stops: close the metrics files, and forget the directory for the next app."""
        if self.directory is None:
            return
        values.close_all_multiprocess_files()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR") == str(self.directory):
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]

    def worker_exit(self) -> None:
        """What a worker does as it stops: its live gauges must leave the sum."""
        # Exercise 16.3: Mark this process dead when it stops


def route_label(scope: Scope) -> str:
    """The template of the route that answered (``/products/{product_id}``), never the raw path."""
    # Exercise 16.3: Label requests with the route's template, not the path
    return str(scope["path"])


class MetricsMiddleware:
    """Counts every HTTP request by method, route and status, and the requests in progress."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before it answers

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.in_progress.dec()
            self.metrics.requests.labels(scope["method"], route_label(scope), str(status)).inc()
