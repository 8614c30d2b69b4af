"""The database gateway: a process that holds one SQLite file, runs the statements apps send it, and counts them.

It runs in a jail of its own, as a uid that is neither root nor the learner's, and sees
only its own directory: the app reaches it through ``sql.sock`` (``course.sql_gateway``
is the driver on that side), the trusted side through ``control.sock``, where it asks
how many statements have been run and how many rows are stored. Learner SQL runs here,
so the connection may not attach other files, and a statement that runs too long is
interrupted.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from ..protocol import serve_connection
from ..sql_gateway import decode, encode

STATEMENT_SECONDS = 5.0
MAX_LINE = 16 << 20
MAX_ROWS = 100_000
DENIED = {sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH}


def _authorizer(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_DENY if action in DENIED else sqlite3.SQLITE_OK


def _regexp(pattern: str, text: str | None) -> bool | None:
    """What SQLAlchemy's SQLite dialect installs as REGEXP."""
    return None if text is None else re.search(pattern, text) is not None


def _floor(value: float | None) -> int | None:
    return None if value is None else math.floor(value)


class Gateway:
    def __init__(self, database: Path) -> None:
        self.database = database
        self.statements = 0
        self.lock = threading.Lock()

    def connect(self, isolation_level: Any) -> sqlite3.Connection:
        connection = sqlite3.connect(self.database, isolation_level=isolation_level, check_same_thread=False)
        connection.set_authorizer(_authorizer)
        connection.create_function("regexp", 2, _regexp, deterministic=True)
        connection.create_function("floor", 1, _floor, deterministic=True)
        return connection

    def count(self) -> None:
        with self.lock:
            self.statements += 1

    def serve_app(self, client: socket.socket) -> None:
        """One app connection: requests until it closes."""
        connection: sqlite3.Connection | None = None
        with client, client.makefile("rwb") as stream:
            while line := stream.readline(MAX_LINE):
                try:
                    request = json.loads(line)
                    connection, reply = self.answer(connection, request)
                except Exception as exc:
                    reply = {"error": {"class": type(exc).__name__, "message": str(exc)}}
                stream.write(json.dumps(reply).encode() + b"\n")
                stream.flush()
        if connection is not None:
            connection.close()

    def answer(
        self, connection: sqlite3.Connection | None, request: dict[str, Any]
    ) -> tuple[sqlite3.Connection | None, dict[str, Any]]:
        op = request["op"]
        if op == "connect":
            return self.connect(request.get("isolation_level", "")), {}
        if connection is None:
            raise sqlite3.ProgrammingError("not connected")
        if op == "isolation":
            connection.isolation_level = request["level"]
            return connection, {}
        if op == "in_transaction":
            return connection, {"in_transaction": connection.in_transaction}
        if op in ("commit", "rollback"):
            getattr(connection, op)()
            return connection, {}
        deadline = time.monotonic() + STATEMENT_SECONDS
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        self.count()
        if op == "executemany":
            cursor = connection.executemany(request["sql"], [[decode(v) for v in row] for row in request["rows"]])
        else:
            params = request.get("params") or []
            params = (
                {k: decode(v) for k, v in params.items()} if isinstance(params, dict) else [decode(v) for v in params]
            )
            cursor = connection.execute(request["sql"], params)
        rows = cursor.fetchmany(MAX_ROWS) if cursor.description else []
        description = [column[0] for column in cursor.description] if cursor.description else None
        reply = {
            "description": description,
            "rows": [[encode(value) for value in row] for row in rows],
            "rowcount": cursor.rowcount,
            "lastrowid": cursor.lastrowid,
        }
        return connection, reply

    # --- the trusted side's questions, on control.sock -------------------------------------------

    def op_count(self) -> dict[str, Any]:
        with self.lock:
            return {"statements": self.statements}

    def op_rows(self) -> dict[str, Any]:
        """How many rows each table holds: proof that the app stored its data here."""
        with sqlite3.connect(self.database) as connection:
            tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            counts = {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables}
        return {"rows": counts}


def _listen(path: Path, mode: int) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, mode)
    listener.listen(32)
    return listener


def run(directory: Path) -> None:
    """Serve ``directory/private/db.sqlite`` on ``directory/sql.sock``, answer on ``directory/control.sock``."""
    private = directory / "private"
    private.mkdir(mode=0o700, exist_ok=True)
    gateway = Gateway(private / "db.sqlite")
    apps = _listen(directory / "sql.sock", 0o666)  # the learner's jails connect; they cannot replace it
    control = _listen(directory / "control.sock", 0o600)

    def accept_apps() -> None:
        while True:
            client, _ = apps.accept()
            threading.Thread(target=gateway.serve_app, args=(client,), daemon=True).start()

    threading.Thread(target=accept_apps, daemon=True).start()
    while True:
        connection, _ = control.accept()
        with connection:
            serve_connection(connection, gateway, 10.0)
