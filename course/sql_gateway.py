"""A SQLite database that a trusted process owns and counts: the driver side, run in the learner's app.

A check about N+1 queries needs to know how many statements a request sent. Under the
grader, a number counted inside the learner's process could be forged, so the check
gives the app a database URL ``sqlite+coursesql:///<socket>``: SQLAlchemy's own SQLite
dialect, over a DB-API driver that sends every statement to a gateway process
(``course.sandboxed.sql_server``) which holds the file, runs the statement with
``sqlite3`` and counts it. The app cannot see the file, only the gateway's socket, so
the count is the trusted side's own.

This module is the driver: ``connect()`` and the connection and cursor objects that
SQLAlchemy expects of ``sqlite3``. Errors are ``sqlite3``'s own classes, so an app that
catches ``IntegrityError`` behaves as with a local file.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

SCHEME = "sqlite+coursesql"
DRIVER = "coursesql"
MAX_REPLY = 64 << 20
apilevel = "2.0"
threadsafety = 1
paramstyle = "qmark"
sqlite_version_info = sqlite3.sqlite_version_info
sqlite_version = sqlite3.sqlite_version
Binary = bytes
Warning = sqlite3.Warning
Error = sqlite3.Error
InterfaceError = sqlite3.InterfaceError
DatabaseError = sqlite3.DatabaseError
DataError = sqlite3.DataError
OperationalError = sqlite3.OperationalError
IntegrityError = sqlite3.IntegrityError
InternalError = sqlite3.InternalError
ProgrammingError = sqlite3.ProgrammingError
NotSupportedError = sqlite3.NotSupportedError
ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls
    for cls in (
        Error,
        InterfaceError,
        DatabaseError,
        DataError,
        OperationalError,
        IntegrityError,
        InternalError,
        ProgrammingError,
        NotSupportedError,
        OverflowError,
    )
}
FUNCTIONS = {"regexp", "floor"}  # what SQLAlchemy installs on connect; the gateway has them itself


def encode(value: Any) -> Any:
    """A parameter as JSON; what sqlite3 could not bind either is refused the same way."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$f": repr(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime.datetime | datetime.date):  # sqlite3's own default adapters
        return value.isoformat(" ") if isinstance(value, datetime.datetime) else value.isoformat()
    raise ProgrammingError(f"Error binding parameter: type {type(value).__name__!r} is not supported")


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$b" in value:
            return base64.b64decode(value["$b"])
        return float(value["$f"])
    return value


class Connection:
    """One connection to the gateway: one ``sqlite3`` connection on its side."""

    def __init__(self, path: str, isolation_level: str | None = "", **_: Any) -> None:
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._socket.connect(path)
        except OSError as exc:
            raise OperationalError(f"unable to open database file ({exc.strerror})") from None
        self._stream = self._socket.makefile("rwb")
        self._isolation_level = isolation_level
        self._ask("connect", isolation_level=isolation_level)

    def _ask(self, op: str, **fields: Any) -> dict[str, Any]:
        try:
            self._stream.write(json.dumps({"op": op, **fields}).encode() + b"\n")
            self._stream.flush()
            line = self._stream.readline(MAX_REPLY)
        except (OSError, ValueError) as exc:
            raise ProgrammingError("Cannot operate on a closed database.") from exc
        if not line:
            raise ProgrammingError("Cannot operate on a closed database.")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            kind = ERRORS.get(reply["error"]["class"], DatabaseError)
            raise kind(reply["error"]["message"])
        return reply

    @property
    def isolation_level(self) -> str | None:
        return self._isolation_level

    @isolation_level.setter
    def isolation_level(self, level: str | None) -> None:
        self._ask("isolation", level=level)
        self._isolation_level = level

    @property
    def in_transaction(self) -> bool:
        return bool(self._ask("in_transaction")["in_transaction"])

    def cursor(self) -> Cursor:
        return Cursor(self)

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        return self.cursor().execute(sql, parameters)

    def commit(self) -> None:
        self._ask("commit")

    def rollback(self) -> None:
        self._ask("rollback")

    def create_function(self, name: str, arguments: int, function: Any, **_: Any) -> None:
        if name.lower() not in FUNCTIONS:
            raise NotSupportedError(f"the course's database gateway has no user function {name!r}")

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._socket.close()


class Cursor:
    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.description: tuple[tuple[Any, ...], ...] | None = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[tuple[Any, ...]] = []

    def _take(self, reply: dict[str, Any]) -> Cursor:
        names = reply.get("description")
        self.description = tuple((name, None, None, None, None, None, None) for name in names) if names else None
        self._rows = [tuple(decode(value) for value in row) for row in reply.get("rows", [])]
        self.rowcount, self.lastrowid = reply.get("rowcount", -1), reply.get("lastrowid")
        return self

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        params: Any = (
            {k: encode(v) for k, v in parameters.items()}
            if isinstance(parameters, dict)
            else [encode(v) for v in parameters]
        )
        return self._take(self.connection._ask("execute", sql=sql, params=params))

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]]) -> Cursor:
        rows = [[encode(value) for value in parameters] for parameters in seq_of_parameters]
        return self._take(self.connection._ask("executemany", sql=sql, rows=rows))

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        size = size or self.arraysize
        taken, self._rows = self._rows[:size], self._rows[size:]
        return taken

    def fetchall(self) -> list[tuple[Any, ...]]:
        taken, self._rows = self._rows, []
        return taken

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        self._rows = []

    def setinputsizes(self, *_: Any) -> None:
        pass

    def setoutputsize(self, *_: Any) -> None:
        pass


def connect(database: str, **options: Any) -> Connection:
    return Connection(database, **options)


class GatewayDialect(SQLiteDialect_pysqlite):
    """SQLAlchemy's SQLite dialect, with this module as its driver."""

    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        import course.sql_gateway as module

        return module

    @classmethod
    def get_pool_class(cls, url: Any) -> Any:
        from sqlalchemy import pool

        return pool.QueuePool

    def create_connect_args(self, url: Any) -> Any:
        # The "database" of the URL is the gateway's socket; no other option means anything here.
        return [url.database], {"isolation_level": ""}


def register() -> None:
    """Let ``create_engine("sqlite+coursesql:///<socket>")`` find the dialect."""
    from sqlalchemy.dialects import registry

    registry.register(f"sqlite.{DRIVER}", "course.sql_gateway", "GatewayDialect")
