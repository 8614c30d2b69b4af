"""The app's two Celery workers, run for as long as the app runs: one per queue.

In production, workers are processes of their own, started beside the API (see
docker-compose.yml). Here the app starts them, so that a notebook or a check that only
talks HTTP to the app sees its tasks done, the way the course runs Celery in each mode:

- embedded: a real worker in a thread of this process, on a memory broker;
- services: a real ``celery worker`` process, on Redis.

Each worker consumes one queue, with ``--pool solo`` (one task at a time) and a
prefetch of 1: a busy worker holds no task that another worker could be running.
"""

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from celery import Celery
from celery.contrib.testing.worker import start_worker

from course.config import WORKER_START_TIMEOUT
from course.resources import get_resources, worker_command

from .celery_app import create_celery
from .config import Settings

# What a worker process loads: this package's Celery app, from the tree this module was imported from.
APP_PATH = f"{__package__}.celery_app:celery_app"
TREE = Path(__file__).parent.parent.parent


class Workers:
    """``start()`` and ``stop()`` block until the workers answer or have stopped: an async app runs them in a thread."""

    def __init__(self, celery: Celery, settings: Settings) -> None:
        self.celery, self.settings = celery, settings
        host = socket.gethostname()
        self.nodes = {
            queue: f"{queue.rpartition('.')[2]}-{settings.queue_prefix}@{host}"
            for queue in (settings.queue, settings.priority_queue)
        }
        self._running = ExitStack()

    def start(self) -> None:
        with ExitStack() as stack:
            if get_resources().services:
                stack.enter_context(self._processes())
            else:
                for queue, node in self.nodes.items():
                    stack.enter_context(self._thread(queue, node))
            self._running = stack.pop_all()

    def stop(self) -> None:
        try:
            self._running.close()
        finally:
            self._forget_queues()

    @contextmanager
    def _thread(self, queue: str, node: str) -> Iterator[None]:
        # Each worker gets a Celery app of its own: two workers of one app would share its choice of queues.
        app = create_celery(self.settings)
        with start_worker(
            app,
            pool="solo",
            queues=[queue],
            hostname=node,
            loglevel="ERROR",
            logfile=str(self._log_file()),
            perform_ping_check=False,
            shutdown_timeout=WORKER_START_TIMEOUT,
        ):
            yield
            # Told to stop by a remote-control command, a worker stops as soon as its current task is done.
            app.control.shutdown(destination=[node])

    @contextmanager
    def _processes(self) -> Iterator[None]:
        env = {**get_resources().child_env(), **self.settings.environment(), "PYTHONPATH": str(TREE)}
        with open(self._log_file(), "ab") as log:
            processes = [
                subprocess.Popen(
                    [sys.executable, "-m", *worker_command(APP_PATH, queue, node), "--prefetch-multiplier", "1"],
                    env=env,
                    cwd=TREE,
                    stdout=log,
                    stderr=log,
                )
                for queue, node in self.nodes.items()
            ]
            try:
                self._wait_until_ready(processes)
                yield
            finally:
                for process in processes:
                    process.terminate()  # a warm shutdown: the current task first
                for process in processes:
                    try:
                        process.wait(WORKER_START_TIMEOUT)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()

    def _log_file(self) -> Path:
        """Where the workers write their logs: a file of the run, so they never mix with a notebook's output."""
        return get_resources().tmpdir / f"workers-{self.settings.queue_prefix}.log"

    def _wait_until_ready(self, processes: list[subprocess.Popen[bytes]]) -> None:
        waiting = set(self.nodes.values())
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while waiting:
            if any(process.poll() is not None for process in processes):
                raise RuntimeError("a celery worker exited before it was ready")
            if time.monotonic() > deadline:
                raise TimeoutError(f"celery workers {sorted(waiting)} did not answer within {WORKER_START_TIMEOUT:g} s")
            for reply in self.celery.control.ping(destination=sorted(waiting), timeout=0.5):
                waiting -= set(reply)

    def _forget_queues(self) -> None:
        """Drop what is left in this app's queues: no later app reads them."""
        with contextlib.suppress(Exception), self.celery.connection_for_write() as connection:
            channel = connection.default_channel
            for queue in self.nodes:
                channel.queue_purge(queue)
                channel.queue_delete(queue)
