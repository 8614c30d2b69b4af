"""The harness seam: a lab answers the same in-process and in a jail, through every door the checks use."""

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from course import harness
from course.config import ROOT_ENV, SandboxLimits
from course.grading.sandbox_client import ZygoteProcess
from course.grading.sandboxed_labs import SandboxedLabs
from course.harness import AppReport, SharedDirectory
from course.tree import link_tree

pytestmark = pytest.mark.embedded_only
PROBE_APP = """
import os
from pathlib import Path

from fastapi import FastAPI, Request, WebSocket


def create_app():
    app = FastAPI()
    outbox = os.environ.get("PROBE_OUTBOX", "")  # settings are read when the app is made

    @app.get("/scheme")
    async def scheme(request: Request) -> dict:
        return {"scheme": request.url.scheme, "url": str(request.url), "client": request.client.host}

    @app.post("/mail/{name}")
    async def mail(name: str) -> dict:
        Path(outbox, name).write_text(f"hello {name}")
        return {"sent": name}

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            text = await websocket.receive_text()
            await websocket.send_text(f"{websocket.url.scheme}: {text}")

    @app.get("/cookie")
    async def cookie(request: Request) -> dict:
        return {"cookie": request.cookies.get("session")}

    @app.post("/login")
    async def login():
        from fastapi.responses import JSONResponse

        response = JSONResponse({"ok": True})
        response.set_cookie("session", "s3cret", secure=True, httponly=True, samesite="strict")
        return response

    return app


app = create_app()
"""


@pytest.fixture(scope="module")
def probe_tree() -> Iterator[tuple[Path, Path]]:
    """A tree whose labs/ holds one small probe lab, as lesson 01."""
    base = Path(tempfile.mkdtemp(prefix="course-probe-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    base.chmod(0o711)
    labs = base / "submission" / "labs"
    (labs / "lesson01_endpoints").mkdir(parents=True)
    (labs / "__init__.py").touch()
    (labs / "lesson01_endpoints" / "__init__.py").touch()
    (labs / "lesson01_endpoints" / "app.py").write_text(PROBE_APP)
    for path in [base / "submission", labs, *labs.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    tree = base / "tree"
    tree.mkdir(mode=0o755)
    link_tree(tree, labs)
    yield tree, labs
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["in-process", "sandboxed"])
def backend(request: pytest.FixtureRequest, probe_tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch):
    tree, labs = probe_tree
    monkeypatch.setenv(ROOT_ENV, str(tree))
    if request.param == "in-process":
        yield harness.InProcessLabs()
        return
    zygote = ZygoteProcess(Path(tempfile.mkdtemp(dir=tree.parent)) / "zygote", SandboxLimits())
    sandboxed = SandboxedLabs(zygote.start(), SandboxLimits())
    sandboxed.begin("probe", tree, labs)
    try:
        yield sandboxed
    finally:
        sandboxed.end()
        zygote.stop()


@asynccontextmanager
async def opened(backend, env: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    async with backend.open("lesson01_endpoints", env or {}, AppReport(), fresh=True) as client:
        yield client


async def test_the_scheme_the_check_asks_for_reaches_the_app_and_secure_cookies_come_back(backend) -> None:
    async with opened(backend) as client:
        plain = (await client.get("/scheme")).json()
        secure = (await client.get("https://testserver/scheme")).json()
        assert (plain["scheme"], secure["scheme"]) == ("http", "https")
        # One peer in both: an app that trusts proxy headers from one address judges both alike.
        assert plain["client"] == secure["client"] == "127.0.0.1"
        assert secure["url"] == "https://testserver/scheme"
        assert (await client.post("https://testserver/login")).status_code == 200
        assert (await client.get("https://testserver/cookie")).json() == {"cookie": "s3cret"}
        assert (await client.get("/cookie")).json() == {"cookie": None}, "a Secure cookie went over plain HTTP"


async def test_a_shared_directory_shows_what_the_app_wrote_while_it_runs(backend) -> None:
    shared: AbstractContextManager[SharedDirectory] = backend.shared_directory()
    with shared as outbox:
        async with opened(backend, {"PROBE_OUTBOX": outbox.path}) as client:
            assert (await client.post("/mail/ada")).json() == {"sent": "ada"}
            assert outbox.files() == {"ada": b"hello ada"}
            assert (await client.post("/mail/alan")).status_code == 200
            assert set(outbox.files()) == {"ada", "alan"}


async def test_a_websocket_reaches_the_app_and_answers_within_a_timeout(backend) -> None:
    from httpx_ws import aconnect_ws

    async with opened(backend) as client, aconnect_ws("http://testserver/echo", client) as socket:
        await socket.send_text("ping")
        assert await socket.receive_text(timeout=5) == "ws: ping"


def test_a_command_runs_on_a_labs_directory_the_check_built(backend, tmp_path: Path) -> None:
    """As the testing lesson runs a learner's tests on the course's app: another labs/, read-only to the command."""
    built = tmp_path / "built"
    shutil.copytree(Path(os.environ[ROOT_ENV]) / "labs", built)
    (built / "lesson01_endpoints" / "probe_cmd.py").write_text(
        "import pathlib, sys\nhere = pathlib.Path(__file__).parent\n"
        "print('built' if (here / 'probe_cmd.py').exists() else 'other', sys.argv[1:])\n"
        "try:\n    (here / 'written').write_text('x')\n    print('writable')\nexcept OSError:\n    print('read-only')\n"
    )
    result = backend.run_command("labs.lesson01_endpoints.probe_cmd", ["a"], {}, 30, None, built)
    assert result.returncode == 0, result.output
    lines = result.output.split("\n")
    assert lines[0] == "built ['a']", result.output
    if isinstance(backend, SandboxedLabs):
        assert lines[1] == "read-only", "a jail changed the check's own files"
