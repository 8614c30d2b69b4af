"""The sandboxed side of grading, run in-process: the lab host and its app runner.

Under the grader these run in forked, jailed children; here they run in the test's
own process, so what they answer can be checked directly.
"""

import json
import signal
import time
from pathlib import Path

import httpx
import pytest

from course.harness import import_lab
from course.protocol import answer
from course.sandboxed import lab_host
from course.sandboxed.app_runner import APP_HEADER, AppRunner
from course.sandboxed.lab_host import LabHost

LESSON = "lesson01_endpoints"


@pytest.fixture
def quiet_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the test process's own output: a runner sends it to each app's log."""
    monkeypatch.setattr(lab_host, "child_output", lambda path: path.touch())


def ask(app: AppRunner, name: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers={APP_HEADER.decode(): name})


@pytest.mark.usefixtures("quiet_output")
async def test_the_runner_serves_fresh_apps_side_by_side_and_none_after(solutions_tree: Path, tmp_path: Path) -> None:
    runner = AppRunner(import_lab(LESSON, fresh=False), tmp_path)
    async with ask(runner, "app-1") as first, ask(runner, "app-2") as second:
        assert (await runner.op_serve("app-1", {})) == {"started": True}
        before = len((await first.get("/trades")).json())
        trade = {"user_id": 1, "currency": "EUR", "side": "buy", "price": 1.1, "amount": 5}
        assert (await first.post("/trades", json=trade)).status_code == 201
        assert len((await first.get("/trades")).json()) == before + 1
        assert (await runner.op_serve("app-2", {})) == {"started": True}  # another instance, at the same time
        assert len((await second.get("/trades")).json()) == before, "the second app was not fresh"
        assert len((await first.get("/trades")).json()) == before + 1, "the first app stopped serving"
        await runner.op_stop("app-1")
        await runner.op_stop("app-2")
        after = await first.get("/users")
        assert after.status_code == 503 and after.json() == {"detail": "no such app is being served"}


@pytest.mark.usefixtures("quiet_output")
async def test_a_factory_that_fails_is_reported_in_the_apps_log(tmp_path: Path) -> None:
    class Broken:
        @staticmethod
        def create_app() -> None:
            raise RuntimeError("no app today")

    runner = AppRunner(Broken(), tmp_path)
    assert (await runner.op_serve("app-1", {})) == {"started": False}
    with pytest.raises(ValueError, match="bad app name"):
        await runner.op_serve("../../etc/passwd", {})


async def test_the_runner_answers_on_its_control_socket(tmp_path: Path) -> None:
    import asyncio

    runner = AppRunner(None, tmp_path)
    path = tmp_path / "apps-1.ctl"
    server = await asyncio.start_unix_server(runner.control, path=str(path))
    async with server:
        for request, reply in (({"op": "stop", "name": "app-1"}, {"stopped": True}), ({"op": "nonsense"}, "error")):
            reader, writer = await asyncio.open_unix_connection(str(path))
            writer.write(json.dumps(request).encode() + b"\n")
            answer = json.loads(await asyncio.wait_for(reader.readline(), 5))
            writer.close()
            assert answer == reply if isinstance(reply, dict) else reply in answer


def test_the_host_imports_the_lab_once_and_answers_requests(solutions_tree: Path, tmp_path: Path) -> None:
    host = LabHost(LESSON, tmp_path, {})
    assert hasattr(host.module, "create_app")
    _, reply = answer(b'{"op": "status", "pid": 12345}\n', host)
    assert "error" in json.loads(reply), "a pid the host never started"
    assert host.op_stop(12345) == {"exit": None}
    with pytest.raises(ValueError, match="bad child name"):
        host._fork("../x", lambda: None)


def wait_for_exit(host: LabHost, pid: int) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while (status := host.op_status(pid))["alive"] and time.monotonic() < deadline:
        time.sleep(0.01)
    return status


def test_the_host_runs_commands_and_stops_servers_in_children_of_its_own(solutions_tree: Path, tmp_path: Path) -> None:
    host = LabHost(LESSON, tmp_path, {})
    done = host.op_run("run-1", "json.tool", [str(tmp_path / "missing.json")], {"COURSE_PROBE": "1"})["pid"]
    assert wait_for_exit(host, done) == {"alive": False, "exit": 2}  # argparse: no such file
    assert "missing.json" in (tmp_path / "run-1.log").read_text(), "the command's output is in its own log"
    assert host.op_stop(done) == {"exit": 2}

    serving = host.op_apps("apps-2")["pid"]
    deadline = time.monotonic() + 20
    while not (tmp_path / "apps-2.ctl").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert host.op_status(serving)["alive"], (tmp_path / "apps-2.log").read_text()
    assert host.op_stop(serving) == {"exit": -signal.SIGKILL}, "a runner is stopped with its whole process group"


def test_a_status_request_waits_for_the_command_to_end_and_no_longer(
    solutions_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trusted side asks once and hears as the command ends, instead of polling; a command still running is
    reported alive once the wait is over."""
    monkeypatch.chdir(tmp_path)  # python -m finds modules in the working directory
    monkeypatch.setattr(lab_host, "LONGEST_STATUS_WAIT", 30.0)  # an answer before it is the command's ending
    (tmp_path / "sleeper_cmd.py").write_text("import time\ntime.sleep(60)\n")
    host = LabHost(LESSON, tmp_path, {})
    sleeping = host.op_run("run-1", "sleeper_cmd", [], {})["pid"]
    started = time.monotonic()
    assert host.op_status(sleeping, wait=0.3)["alive"]
    assert 0.3 <= time.monotonic() - started < 20
    assert host.op_stop(sleeping) == {"exit": -signal.SIGKILL}

    ending = host.op_run("run-2", "json.tool", [str(tmp_path / "missing.json")], {})["pid"]
    started = time.monotonic()
    assert host.op_status(ending, wait=60) == {"alive": False, "exit": 2}
    assert time.monotonic() - started < 20, "it answered when the command ended, not when the wait ran out"
