"""The check fork server: each child is a fresh pytest process as far as the checks can tell."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.check_forks import CheckForks
from course.checks import run_checks
from course.layout import checkout_root

PROBE = """
import json, os, sys, time

def test_probe():
    seen = {
        "cwd": os.getcwd(),
        "marker": os.environ.get("FORK_PROBE"),
        "leaked": os.environ.get("FORK_PROBE_PARENT"),
        "zone": time.strftime("%z", time.localtime(1_700_000_000)),
        "course_modules": sorted(name for name in sys.modules if name.split(".")[0] == "course"),
        "pgid_is_own": os.getpgid(0) == os.getpid(),
    }
    with open(os.environ["FORK_PROBE_OUT"], "w") as out:
        json.dump(seen, out)
    print("probe ran")
"""

HANG = """
import time

def test_hangs():
    time.sleep(600)
"""


@pytest.fixture(scope="module")
def forks() -> Iterator[CheckForks]:
    with CheckForks() as server:
        yield server


def test_a_child_has_the_requests_directory_environment_and_time_zone(forks: CheckForks, tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE)
    seen_file = tmp_path / "seen.json"
    env = {"PATH": os.environ["PATH"], "FORK_PROBE": "yes", "FORK_PROBE_OUT": str(seen_file), "TZ": "Asia/Kathmandu"}
    run = forks.start(["-q", "-p", "no:cacheprovider", "test_probe.py"], tmp_path, env, tmp_path / "out.txt")
    deadline = time.monotonic() + 60
    while not run.done() and time.monotonic() < deadline:
        time.sleep(0.05)
    code, output = run.result()
    assert code == 0, output
    assert "1 passed" in output and "probe ran" not in output  # pytest captured the test's print
    seen = json.loads(seen_file.read_text())
    assert seen["cwd"] == str(tmp_path)
    assert seen["marker"] == "yes" and seen["leaked"] is None
    assert seen["zone"] == "+0545", "the child must take the request's TZ, not the server's"
    assert seen["course_modules"] == ["course"], "no module of the course may be imported before the child starts"
    assert seen["pgid_is_own"]


def test_a_failing_run_reports_its_exit_code(forks: CheckForks, tmp_path: Path) -> None:
    (tmp_path / "test_fails.py").write_text("def test_fails():\n    assert 1 == 2\n")
    run = forks.start(["-q", "-p", "no:cacheprovider"], tmp_path, {"PATH": os.environ["PATH"]}, tmp_path / "o.txt")
    run.ended.result(timeout=60)
    code, output = run.result()
    assert code == 1 and "1 failed" in output


def test_a_killed_run_ends_at_once(forks: CheckForks, tmp_path: Path) -> None:
    (tmp_path / "test_hang.py").write_text(HANG)
    run = forks.start(["-q", "-p", "no:cacheprovider"], tmp_path, {"PATH": os.environ["PATH"]}, tmp_path / "o.txt")
    time.sleep(1.0)
    assert not run.done()
    started = time.monotonic()
    run.kill()
    assert run.done() and time.monotonic() - started < 5
    assert run.result()[0] == -9


def test_forked_checks_give_the_verdicts_of_a_fresh_process(forks: CheckForks) -> None:
    for impl in (checkout_root() / "solutions", checkout_root() / "labs"):
        fresh = run_checks(["1.1", "1.2"], impl=impl)
        forked = run_checks(["1.1", "1.2"], impl=impl, forks=forks)
        assert [(r.name, r.outcome) for r in forked.results] == [(r.name, r.outcome) for r in fresh.results]
        assert forked.returncode == fresh.returncode
    assert forked.results and not forked.passed  # the starter fails, so the comparison can tell


def test_a_module_runs_as_python_dash_m_with_its_arguments_and_exit_code(forks: CheckForks, tmp_path: Path) -> None:
    (tmp_path / "probe_cmd.py").write_text(
        "import sys\nprint('args', sys.argv[1:], __name__)\nprint('to stderr', file=sys.stderr)\nsys.exit(3)\n"
    )
    ran = forks.run("probe_cmd", ["a", "b"], tmp_path, {"PATH": os.environ["PATH"]}, tmp_path / "o.txt", 60)
    assert ran is not None
    code, output = ran
    assert code == 3
    assert "args ['a', 'b'] __main__" in output and "to stderr" in output


def test_a_module_that_outlives_its_timeout_is_killed(forks: CheckForks, tmp_path: Path) -> None:
    (tmp_path / "sleeper.py").write_text("import time\ntime.sleep(600)\n")
    started = time.monotonic()
    assert forks.run("sleeper", [], tmp_path, {"PATH": os.environ["PATH"]}, tmp_path / "o.txt", 1.0) is None
    assert time.monotonic() - started < 10


NESTED = """
import os
from pathlib import Path

from course.check_forks import FORKS_ENV, shared

forks = shared.get(30)
print("same server", forks is not None and forks.address == os.environ[FORKS_ENV])
print("inner", forks.run("inner_cmd", [], Path.cwd(), dict(os.environ), Path.cwd() / "inner.txt", 30))
"""


def test_a_childs_own_commands_fork_from_the_same_server(forks: CheckForks, tmp_path: Path) -> None:
    """A check that runs a lab command (Alembic, a learner's tests) asks its own server, rather than warming one."""
    (tmp_path / "nested_cmd.py").write_text(NESTED)
    (tmp_path / "inner_cmd.py").write_text("import os, sys\nprint('inner pid', os.getpid())\nsys.exit(4)\n")
    ran = forks.run("nested_cmd", [], tmp_path, {"PATH": os.environ["PATH"]}, tmp_path / "o.txt", 60)
    assert ran is not None
    code, output = ran
    assert code == 0, output
    assert "same server True" in output
    assert "inner (4, 'inner pid" in output


def running(pid: int) -> bool:
    """Whether the process runs still (a zombie waiting for the server to reap it has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:  # gone
        return False


def test_a_closed_connection_has_its_runs_killed(forks: CheckForks, tmp_path: Path) -> None:
    """A client that goes away (a kernel, a check killed at its timeout) leaves nothing running."""
    pid_file = tmp_path / "pid"
    (tmp_path / "long_cmd.py").write_text(
        f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)\n"
    )
    other = CheckForks(forks.address)
    run = other.start([], tmp_path, {"PATH": os.environ["PATH"]}, tmp_path / "o.txt", "long_cmd")
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    other.close()
    deadline = time.monotonic() + 10
    while running(pid):
        assert time.monotonic() < deadline, "the run outlived its connection"
        time.sleep(0.05)
    assert run.done()
    assert forks.alive  # the server serves its other clients still


def test_a_child_runs_its_exit_handlers_as_a_process_that_ends_does(forks: CheckForks, tmp_path: Path) -> None:
    """A run's clean-up at exit (its databases, its scratch folder) happens, as it would in a fresh process."""
    done = tmp_path / "cleaned"
    (tmp_path / "registers.py").write_text(f"import atexit\natexit.register(open({str(done)!r}, 'w').close)\n")
    assert forks.run("registers", [], tmp_path, {"PATH": os.environ["PATH"]}, tmp_path / "o.txt", 60) == (0, "")
    assert done.exists()
