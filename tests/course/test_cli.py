"""The course command as a learner and a maintainer use it."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from course.cli import app
from course.layout import checkout_root

runner = CliRunner()
STARTER = str(checkout_root() / "labs")


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result.exit_code, result.output


def test_check_fails_readably_on_the_starter_and_passes_on_the_solutions() -> None:
    code, out = invoke("check", "1.1", "--impl", STARTER)
    assert code == 1
    assert "Requirement: GET /users/999 returns 404" in out
    assert "The app raised NotImplementedError: Exercise 1.1" in out
    code, out = invoke("check", "1.1", "--impl", "solutions")
    assert code == 0 and "2/2 points" in out


def test_check_of_an_unknown_exercise_says_what_exists() -> None:
    code, out = invoke("check", "1.99")
    assert code == 2 and "has no exercise 1.99" in out


@pytest.mark.parametrize("command", ["check", "list", "verify"])
def test_an_implementation_that_is_no_directory_is_refused_with_the_reason(command: str, tmp_path: Path) -> None:
    code, out = invoke(command, "--impl", str(tmp_path / "solutions" / "labs"))
    assert code == 2 and "is not a directory" in out and "Traceback" not in out, out


@pytest.mark.timeout(240)  # runs every check of the course to show its pass state
def test_list_shows_exercises_points_and_pass_state() -> None:
    code, out = invoke("list", "1", "2", "--impl", "solutions")  # every lesson: the strength stage
    assert code == 0 and "1.1" in out and "2.1" in out and "3.1" not in out and "pass" in out and "todo" not in out
    code, out = invoke("list", "--no-run")
    assert code == 0 and "Return the user" in out and "01 · First endpoints" in out


def test_sync_check_passes_on_the_checkout() -> None:
    assert invoke("sync", "--check") == (0, "labs/ is in step with solutions/\n")


def test_sync_reports_out_of_step_and_refuses_edited_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "solutions" / "lesson09_demo").mkdir(parents=True)
    (tmp_path / "solutions" / "lesson09_demo" / "a.py").write_text("x = 1\n")
    monkeypatch.setattr("course.sync.checkout_root", lambda: tmp_path)
    code, out = invoke("sync", "--check")
    assert code == 1 and "out of step: labs/lesson09_demo/a.py" in out
    assert invoke("sync")[0] == 0
    (tmp_path / "labs" / "lesson09_demo" / "a.py").write_text("x = 2  # mine\n")
    (tmp_path / "solutions" / "lesson09_demo" / "a.py").write_text("x = 3\n")
    code, out = invoke("sync")
    assert code == 1 and "labs/lesson09_demo/a.py" in out and "--force" in out
    assert invoke("sync", "--force")[0] == 0
    assert (tmp_path / "labs" / "lesson09_demo" / "a.py").read_text() == "x = 3\n"
    (tmp_path / "labs" / "lesson09_demo" / "extra.py").write_text("")
    code, out = invoke("sync", "--check")
    assert code == 1 and "not in solutions: labs/lesson09_demo/extra.py" in out


def test_verify_prints_a_timing_table_per_notebook() -> None:
    code, out = invoke("verify", "--impl", "solutions", "1", "-j", "1")
    assert code == 0, out
    assert "notebooks/01-endpoints.ipynb" in out and "course (elapsed)" in out


def test_verify_shows_nbval_output_when_a_notebook_fails(tmp_path: Path) -> None:
    code, out = invoke("verify", "--impl", STARTER, "1", "-j", "1")
    assert code != 0 and "FAILED" in out, "stored outputs of the solutions cannot match the starter"


def test_serve_runs_a_lab_on_a_real_port_with_offline_docs(solutions_tree: Path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    course = Path(sys.executable).parent / "course"
    server = subprocess.Popen(
        [str(course), "serve", "1", "--port", str(port)],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline, docs = time.monotonic() + 20, None
        while time.monotonic() < deadline and docs is None:
            try:
                docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=2)
            except httpx.TransportError:
                time.sleep(0.1)
        assert docs is not None and docs.status_code == 200, "course serve did not answer on its port"
        assert "/_course/swagger-ui/swagger-ui.css" in docs.text
        assert httpx.get(f"http://127.0.0.1:{port}/users/1", timeout=2).json()["name"] == "Ada"
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=15)
    assert f"Swagger UI: http://127.0.0.1:{port}/docs" in output
