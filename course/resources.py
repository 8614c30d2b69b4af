"""Per-run isolation: each process that runs labs gets its own database, keys and queue.

A run owns what it creates and removes it when it closes (at interpreter exit at
the latest). A child process that must share a run, such as a Celery worker,
inherits it through the environment (``child_env``) and owns nothing.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import (
    MODE_ENV,
    RUN_DATABASES_ENV,
    RUN_ID_ENV,
    SERVICE_TIMEOUT,
    WORKER_START_TIMEOUT,
    CourseSettings,
    Mode,
    get_settings,
)
from .safe_fs import remove_tree

if TYPE_CHECKING:
    import redis
    from celery import Celery
    from redis.asyncio.client import Redis as AsyncRedis


def _plain_postgres_url(url: str) -> str:
    """psycopg wants ``postgresql://``; SQLAlchemy URLs may name a driver."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


def worker_command(app_path: str, queue: str, node: str) -> list[str]:
    """The ``celery worker`` command line of services mode (docker-compose.yml runs the same)."""
    return [
        "celery",
        "-A",
        app_path,
        "worker",
        "--pool",
        "solo",
        "--queues",
        queue,
        "--hostname",
        node,
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
    ]


def _drop_orphans(conn: Any) -> None:
    """Drop databases of runs whose process is gone (a killed kernel cannot clean up)."""
    rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'course\\_%x%'").fetchall()
    for (name,) in rows:
        match = re.fullmatch(r"course_(\d+)x[0-9a-f]+_\d+", name)
        if match and not Path(f"/proc/{match[1]}").exists():
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _remove_orphans(root: Path) -> None:
    """Remove the scratch directories of this user's runs whose process is gone (a killed kernel
    cannot clean up, and in memory they would stay until the machine restarts)."""
    try:
        entries = list(os.scandir(root))
    except OSError:  # no such directory: creating the run's own says so
        return
    for entry in entries:
        match = re.fullmatch(r"course-(\d+)x[0-9a-f]+-\w+", entry.name)
        if match and not Path(f"/proc/{match[1]}").exists():
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:  # another new run removed it first
                continue
            if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():
                remove_tree(Path(entry.path))


def services_status(settings: CourseSettings | None = None) -> tuple[bool, str]:
    """Whether PostgreSQL and Redis answer, and if not, which one does not."""
    import psycopg
    import redis

    settings = settings or get_settings()
    try:
        with psycopg.connect(_plain_postgres_url(settings.database_url), connect_timeout=int(SERVICE_TIMEOUT)) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return False, f"PostgreSQL at {settings.database_url} is not reachable: {exc}".strip()
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=SERVICE_TIMEOUT)
    try:
        client.ping()
    except redis.RedisError as exc:
        return False, f"Redis at {settings.redis_url} is not reachable: {exc}"
    finally:
        client.close()
    return True, "PostgreSQL and Redis are reachable"


MEMORY_FS = Path("/dev/shm")
MEMORY_FS_ROOM = 1024**3  # a container's small /dev/shm (64 MiB by default) is left alone


def scratch_root(settings: CourseSettings) -> Path | None:
    """Where runs keep their databases and files: ``COURSE_SCRATCH``, else memory when there is room.

    SQLite syncs every commit to disk; a check's database lives for a second, so in memory it
    costs no I/O wait and no CPU for it. ``None``: the system's temporary directory.
    """
    if settings.scratch is not None:
        return settings.scratch
    try:
        usage = shutil.disk_usage(MEMORY_FS)
    except OSError:
        return None
    return MEMORY_FS if usage.free >= MEMORY_FS_ROOM and os.access(MEMORY_FS, os.W_OK | os.X_OK) else None


class RunResources:
    """The database, Redis keys and Celery queue that belong to one run."""

    def __init__(self, settings: CourseSettings | None = None) -> None:
        self.settings = settings or get_settings()
        inherited = os.environ.get(RUN_ID_ENV)
        self.owner = inherited is None
        self.run_id = inherited or f"{os.getpid()}x{secrets.token_hex(3)}"
        # name → URL; a child process inherits its parent's.
        self._databases_by_name: dict[str, str] = (
            {} if self.owner else json.loads(os.environ.get(RUN_DATABASES_ENV, "{}"))
        )
        self._cleanups: list[Callable[[], None]] = []
        self._databases = 0

    @property
    def mode(self) -> Mode:
        return self.settings.mode

    @property
    def services(self) -> bool:
        return self.mode.uses_services

    @cached_property
    def tmpdir(self) -> Path:
        root = scratch_root(self.settings)
        if self.owner:
            _remove_orphans(Path(root or tempfile.gettempdir()))
        path = Path(tempfile.mkdtemp(prefix=f"course-{self.run_id}-", dir=root))
        path.chmod(0o711)  # sandboxed commands may reach a database directory given to them, not list
        if self.owner:
            self._cleanups.append(lambda: shutil.rmtree(path, ignore_errors=True))
        return path

    # --- database -----------------------------------------------------------

    def database_url(self, name: str = "lab") -> str:
        """The run's database called ``name``: a SQLite file, or a fresh PostgreSQL database.

        Labs pass their package name, so that lessons checked in one process never
        share tables.
        """
        if name not in self._databases_by_name:
            self._databases_by_name[name] = self.new_database(name.rpartition(".")[2])
        return self._databases_by_name[name]

    def new_database(self, label: str, *, sqlite: bool = False) -> str:
        """Another empty database of this run (a migration check wants its own), removed at close.

        It is PostgreSQL in services mode, unless ``sqlite`` asks for a SQLite file there too.
        """
        self._databases += 1
        if sqlite or not self.services:
            # A directory per database: the grader copies one database's files, and nothing else, into a jail.
            directory = self.tmpdir / f"{label}-{self._databases}"
            directory.mkdir()
            return f"sqlite:///{directory / 'db.sqlite'}"
        import psycopg

        name = f"course_{self.run_id}_{self._databases}"
        admin_url = _plain_postgres_url(self.settings.database_url)
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=int(SERVICE_TIMEOUT)) as conn:
            if self._databases == 1:
                _drop_orphans(conn)
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        if self.owner:
            self._cleanups.append(drop)
        return _with_database(self.settings.database_url, name)

    @staticmethod
    def database_directory(url: str) -> Path | None:
        """The directory of a SQLite database (what a command must be allowed to write), else None."""
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database:
            return None
        return Path(parsed.database).parent

    # --- redis --------------------------------------------------------------

    @property
    def key_prefix(self) -> str:
        """Prefix for every Redis key of this run, so parallel runs never collide."""
        return f"course:{self.run_id}:"

    @cached_property
    def _fake_server(self) -> Any:
        import fakeredis

        return fakeredis.FakeServer()

    def redis(self) -> redis.Redis:
        """A synchronous Redis client: fakeredis in embedded mode."""
        if not self.services:
            import fakeredis

            return fakeredis.FakeRedis(server=self._fake_server, decode_responses=True)
        import redis

        self._forget_keys_at_close()
        return redis.Redis.from_url(self.settings.redis_url, decode_responses=True)

    def async_redis(self) -> AsyncRedis:
        """An asyncio Redis client sharing the same data as ``redis()``."""
        if not self.services:
            import fakeredis

            return fakeredis.FakeAsyncRedis(server=self._fake_server, decode_responses=True)
        import redis.asyncio

        self._forget_keys_at_close()
        return redis.asyncio.Redis.from_url(self.settings.redis_url, decode_responses=True)

    def _forget_keys_at_close(self) -> None:
        if not self.owner or getattr(self, "_keys_registered", False):
            return
        self._keys_registered = True

        def forget() -> None:
            import redis

            with redis.Redis.from_url(self.settings.redis_url) as client:
                keys = list(client.scan_iter(match=f"{self.key_prefix}*", count=500))
                if keys:
                    client.delete(*keys)

        self._cleanups.append(forget)

    # --- celery -------------------------------------------------------------

    @property
    def celery_queue(self) -> str:
        return f"course.{self.run_id}"

    def celery_config(self) -> dict[str, Any]:
        """Celery settings for this run: memory broker, or Redis with a queue of its own."""
        if self.services:
            broker = backend = self.settings.redis_url
        else:
            broker, backend = "memory://", "cache+memory://"
        return {
            "broker_url": broker,
            "result_backend": backend,
            "task_default_queue": self.celery_queue,
            "result_key_prefix": self.key_prefix if self.services else "",
            "broker_connection_retry_on_startup": True,
            "worker_hijack_root_logger": False,
        }

    def child_env(self) -> dict[str, str]:
        """Environment for a child process that shares this run."""
        env = dict(os.environ)
        env.update(
            {
                MODE_ENV: self.mode.value,
                "DATABASE_URL": self.settings.database_url,
                "REDIS_URL": self.settings.redis_url,
            }
        )
        env[RUN_ID_ENV] = self.run_id
        if self._databases_by_name:
            env[RUN_DATABASES_ENV] = json.dumps(self._databases_by_name)
        return env

    @contextmanager
    def celery_worker(self, app: Celery, app_path: str, timeout: float = WORKER_START_TIMEOUT) -> Iterator[None]:
        """Run a worker for ``app`` while the block runs.

        Embedded: a worker thread in this process. Services: a real ``celery worker``
        process, started from ``app_path`` (``module:attribute``) on this run's queue.
        """
        if not self.services:
            from celery.contrib.testing.worker import start_worker

            with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=timeout):
                yield
            return
        node = f"{self.run_id}@{socket.gethostname()}"
        command = [sys.executable, "-m", *worker_command(app_path, self.celery_queue, node)]
        worker = subprocess.Popen(command, env=self.child_env(), stdout=subprocess.DEVNULL)
        try:
            self._wait_for_worker(app, node, worker, timeout)
            yield
        finally:
            worker.terminate()
            try:
                worker.wait(timeout)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    @staticmethod
    def _wait_for_worker(app: Celery, node: str, worker: subprocess.Popen[bytes], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise RuntimeError(f"celery worker exited with code {worker.returncode} before it was ready")
            if app.control.ping(destination=[node], timeout=0.5):
                return
        raise TimeoutError(f"celery worker {node} did not answer within {timeout:.0f} s")

    def close(self) -> None:
        """Remove everything this run created, newest first."""
        while self._cleanups:
            cleanup = self._cleanups.pop()
            try:
                cleanup()
            except Exception as exc:
                print(f"course: could not clean up run {self.run_id}: {exc}", file=sys.stderr)


_resources: RunResources | None = None


def get_resources() -> RunResources:
    """The resources of this process's run, created on first use and closed at exit."""
    global _resources
    if _resources is None:
        _resources = RunResources()
        atexit.register(_resources.close)
    return _resources


def reset_resources() -> None:
    """Close this process's run; the next ``get_resources`` starts another (a check worker, between learners)."""
    global _resources
    if _resources is not None:
        _resources.close()
        _resources = None
