"""course collect: learners' labs/ gathered from their homes, bounded, following no link, replaced on re-run."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from course import cli
from course.cli import app
from course.collect import REPORT, REPORT_COLUMNS, NothingMatched, collect
from course.config import SubmissionLimits
from course.grading.reports import OutputRefused
from course.grading.submissions import materialise

SECRET = b"TOP-SECRET: root's shadow file"
CLASSMATE = b"ana's own solution, copied by nobody"
LIMIT = 1000  # bytes per file in these tests
L1, L2 = "lesson01_endpoints", "lesson02_validation"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _course(homes: Path, account: str) -> Path:
    course = homes / account / "fastapi-course-lab"
    course.mkdir(parents=True)
    return course


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def homes(tmp_path: Path) -> Path:
    """ana is normal; bob has no labs/; cy an empty one; eve's labs hold links, a FIFO and a huge file."""
    homes = tmp_path / "home"
    outside = tmp_path / "etc"
    _write(outside / "shadow", SECRET)
    ana = _course(homes, "jupyter-ana") / "labs"
    _write(ana / L1 / "main.py", CLASSMATE)
    _write(ana / L1 / "routers" / "users.py", b"router = None\n")
    _write(ana / L1 / "__pycache__" / "main.cpython-311.pyc", b"junk")
    _write(ana / ".ipynb_checkpoints" / "x.py", b"junk")
    _course(homes, "jupyter-bob")
    _write(_course(homes, "jupyter-cy") / "labs" / "notes.txt", b"not a lesson")
    eve = _course(homes, "jupyter-eve") / "labs"
    _write(eve / L1 / "main.py", b"app = 1\n")
    (eve / L1 / "secret.py").symlink_to(outside / "shadow")
    (eve / L2).symlink_to(ana / L1, target_is_directory=True)
    os.mkfifo(eve / L1 / "pipe")
    _write(eve / L1 / "big.bin", b"x" * (LIMIT + 1))
    return homes


def _collect(homes: Path, out: Path) -> dict[str, tuple[str, ...]]:
    rows = collect(str(homes / "*" / "fastapi-course-lab"), out, file_bytes=LIMIT)
    return {row.learner: (row.status, row.files, row.bytes, row.skipped, row.reason) for row in rows}


def test_collects_lessons_skips_links_and_specials_and_reports_every_home(homes: Path, tmp_path: Path) -> None:
    out = tmp_path / "submissions"
    rows = _collect(homes, out)
    ana = {"labs/lesson01_endpoints/main.py": CLASSMATE, "labs/lesson01_endpoints/routers/users.py": b"router = None\n"}
    assert _files(out / "ana") == ana
    assert _files(out / "eve") == {"labs/lesson01_endpoints/main.py": b"app = 1\n"}
    assert sorted(path.name for path in out.iterdir()) == sorted(["ana", "eve", REPORT])  # bob and cy: no folder
    skipped = (
        f"labs/lesson01_endpoints/big.bin is larger than {LIMIT} bytes",
        "labs/lesson01_endpoints/pipe is a FIFO",
        "labs/lesson01_endpoints/secret.py is a link",
        "labs/lesson02_validation is a link",
    )
    assert rows["ana"] == ("collected", 2, sum(map(len, ana.values())), (), "")
    assert rows["bob"] == ("missing", 0, 0, (), "")
    assert rows["cy"] == ("empty", 1, len(b"not a lesson"), (), "")
    assert (rows["eve"][:3], tuple(sorted(rows["eve"][3]))) == (("collected", 1, len(b"app = 1\n")), skipped)
    # No link was followed: neither root's file nor the classmate's work is anywhere under eve's folder.
    for data in _files(out / "eve").values():
        assert SECRET not in data and CLASSMATE not in data
    assert all(SECRET not in data for data in _files(out).values())


def test_the_report_has_one_row_per_home(homes: Path, tmp_path: Path) -> None:
    out = tmp_path / "submissions"
    rows = _collect(homes, out)
    with (out / REPORT).open(newline="") as file:
        table = list(csv.reader(file))
    assert table[0] == list(REPORT_COLUMNS)
    assert [(row[0], row[2], int(row[3]), int(row[4]), int(row[5])) for row in table[1:]] == [
        (name, status, files, size, len(skipped)) for name, (status, files, size, skipped, _) in sorted(rows.items())
    ]
    assert table[1][1] == str(homes / "jupyter-ana" / "fastapi-course-lab")


def test_running_again_replaces_each_learner_cleanly(homes: Path, tmp_path: Path) -> None:
    out = tmp_path / "submissions"
    _collect(homes, out)
    ana = homes / "jupyter-ana" / "fastapi-course-lab" / "labs" / L1
    (ana / "routers" / "users.py").unlink()
    (ana / "main.py").write_bytes(b"resubmitted\n")
    _write(homes / "jupyter-bob" / "fastapi-course-lab" / "labs" / L2 / "main.py", b"late\n")
    (homes / "jupyter-eve" / "fastapi-course-lab" / "labs" / L1 / "main.py").unlink()  # eve now has nothing
    rows = _collect(homes, out)
    assert _files(out / "ana") == {"labs/lesson01_endpoints/main.py": b"resubmitted\n"}
    assert _files(out / "bob") == {"labs/lesson02_validation/main.py": b"late\n"}
    assert (rows["ana"][0], rows["bob"][0], rows["eve"][0]) == ("collected", "collected", "empty")
    assert sorted(path.name for path in out.iterdir()) == sorted(["ana", "bob", REPORT])  # no stale eve, no staging


def test_a_collected_learner_is_a_submission_the_grader_takes(homes: Path, tmp_path: Path) -> None:
    out = tmp_path / "submissions"
    _collect(homes, out)
    submission = materialise(out / "ana", tmp_path / "grading" / "0000")
    assert submission.name == "ana"
    taken = {name: data for name, data in _files(submission.labs).items() if not name.endswith(".pyc")}
    assert taken == {name.removeprefix("labs/"): data for name, data in _files(out / "ana").items()}


def test_homes_that_are_links_names_that_clash_and_oversize_learners_are_refused(tmp_path: Path) -> None:
    homes = tmp_path / "home"
    _write(_course(homes, "jupyter-ana") / "labs" / L1 / "main.py", CLASSMATE)
    _write(_course(homes, "ana") / "labs" / L1 / "main.py", b"another ana\n")
    (homes / "jupyter-mal").mkdir()
    (homes / "jupyter-mal" / "fastapi-course-lab").symlink_to(homes / "jupyter-ana" / "fastapi-course-lab")
    (_course(homes, "jupyter-lin") / "labs").symlink_to(homes / "jupyter-ana" / "fastapi-course-lab" / "labs")
    zed = _course(homes, "jupyter-zed") / "labs" / L1
    for index in range(3):  # 1,800 bytes in all: each file within the limit, the learner over it
        _write(zed / f"{index}.py", b"x" * 600)
    out = tmp_path / "out"
    limits = SubmissionLimits(unpacked_bytes=1500)
    rows = collect(str(homes / "*" / "fastapi-course-lab"), out, limits=limits)
    statuses = {Path(row.home).parent.name: (row.status, row.reason) for row in rows}
    assert statuses["ana"][0] == statuses["jupyter-ana"][0] == "refused"
    assert str(homes / "jupyter-ana" / "fastapi-course-lab") in statuses["ana"][1]
    mal = homes / "jupyter-mal" / "fastapi-course-lab"
    assert statuses["jupyter-mal"] == ("refused", f"{mal} could not be read (a link or not a folder)")
    assert statuses["jupyter-lin"] == ("refused", "labs is a link")
    assert statuses["jupyter-zed"][0] == "refused" and statuses["jupyter-zed"][1].startswith("more than")
    assert sorted(path.name for path in out.iterdir()) == [REPORT]
    assert all(CLASSMATE not in data for data in _files(out).values())


def test_bad_patterns_and_outputs_are_refused(homes: Path, tmp_path: Path) -> None:
    with pytest.raises(NothingMatched, match="no home matches"):
        collect(str(tmp_path / "nowhere" / "*"), tmp_path / "out")
    with pytest.raises(NothingMatched, match="no wildcard"):
        collect(str(homes / "jupyter-ana" / "fastapi-course-lab"), tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing is written when nothing matched
    busy = tmp_path / "busy"
    _write(busy / "thesis.tex", b"mine")
    with pytest.raises(OutputRefused, match="not empty"):
        collect(str(homes / "*" / "fastapi-course-lab"), busy)
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(OutputRefused, match="not a directory of yours"):
        collect(str(homes / "*" / "fastapi-course-lab"), tmp_path / "link")
    assert _files(busy) == {"thesis.tex": b"mine"} and not list((tmp_path / "elsewhere").iterdir())


def test_the_command_prints_a_table_and_exits_2_only_when_nothing_matched(
    homes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command's console took its width when another test first imported it: a wide one, so no cell is cut.
    monkeypatch.setattr(cli, "console", Console(width=200, highlight=False))
    runner = CliRunner()
    env = {"COLUMNS": "200", "NO_COLOR": "1"}
    pattern = str(homes / "*" / "fastapi-course-lab")
    result = runner.invoke(app, ["collect", pattern, "--out", str(tmp_path / "s"), "--max-file-mb", "1"], env=env)
    assert result.exit_code == 0, result.output
    assert "collected 2 of 4 home(s)" in result.output
    assert "missing" in result.output and "pipe is a FIFO" in result.output
    result = runner.invoke(app, ["collect", str(tmp_path / "none" / "*"), "--out", str(tmp_path / "t")], env=env)
    assert result.exit_code == 2 and "no home matches" in result.output
