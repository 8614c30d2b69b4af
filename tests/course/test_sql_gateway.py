"""The database gateway: SQLAlchemy works through it as on a file, it counts each statement, and holds firm."""

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from course.protocol import listening, request
from course.sandboxed import sql_server
from course.sql_gateway import SCHEME, register


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Path]:
    """A gateway serving in a thread of this process, as it does in its own jail under the grader."""
    threading.Thread(target=sql_server.run, args=(tmp_path,), daemon=True).start()
    while not (listening(tmp_path / "sql.sock") and listening(tmp_path / "control.sock")):
        pass
    register()
    yield tmp_path


def count(directory: Path) -> int:
    return int(request(directory / "control.sock", "count", timeout=5)["statements"])


def test_sqlalchemy_works_through_the_gateway_and_every_statement_is_counted(gateway: Path) -> None:
    engine = create_engine(f"{SCHEME}:///{gateway / 'sql.sock'}")
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT UNIQUE, blob BLOB, ratio REAL)")
        )
        connection.execute(
            text("INSERT INTO things (name, blob, ratio) VALUES (:n, :b, :r)"),
            [{"n": "a", "b": b"\x00\x01", "r": 0.5}, {"n": "b", "b": None, "r": float("inf")}],
        )
    before = count(gateway)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, blob, ratio FROM things ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [("a", b"\x00\x01", 0.5), ("b", None, float("inf"))]
    assert count(gateway) == before + 1
    with pytest.raises(Exception, match="UNIQUE constraint failed") as raised, engine.begin() as connection:
        connection.execute(text("INSERT INTO things (name) VALUES ('a')"))
    assert isinstance(raised.value.orig, sqlite3.IntegrityError), "the driver raises sqlite3's own errors"
    assert request(gateway / "control.sock", "rows", timeout=5)["rows"] == {"things": 2}
    engine.dispose()


def test_learner_sql_cannot_reach_other_files_or_run_forever(
    gateway: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_server, "STATEMENT_SECONDS", 0.5)
    engine = create_engine(f"{SCHEME}:///{gateway / 'sql.sock'}")
    with engine.connect() as connection:
        with pytest.raises(Exception, match="not authorized"):
            connection.execute(text(f"ATTACH DATABASE '{tmp_path / 'other.sqlite'}' AS other"))
        endless = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
        with pytest.raises(Exception, match="interrupted"):
            connection.execute(text(endless))
    assert not (tmp_path / "other.sqlite").exists()
    engine.dispose()
