"""Lesson 16's docker-compose deployment: valid, and every service's command starts.

Docker itself does not run here. ``docker-compose config -q`` validates the file where the
tool is installed; then, in services mode, each Python service's command runs natively for a
few seconds against the local PostgreSQL and Redis (host names and ports swapped for the local
ones): the seed step must exit 0, every other service must still be running.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from course.config import Mode, get_settings
from course.resources import services_status

from .uvicorn_lab import free_port

COMPOSE = Path("solutions/lesson16_production/deploy/docker-compose.yml")
RUNNING_FOR = 4.0  # seconds a long-running service must stay up
ONE_SHOT = {"seed"}


def compose_file() -> Path:
    return Path(__file__).resolve().parents[2] / COMPOSE


def services() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(compose_file().read_text())
    return loaded["services"]


def test_compose_file_is_valid() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed")
    checked = subprocess.run(
        [tool, "-f", str(compose_file()), "config", "-q"], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr


def test_compose_has_every_part() -> None:
    found = services()
    assert {"postgres", "redis", "seed", "api", "web", "worker", "flower"} <= set(found)
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in found["postgres"]["volumes"])
    assert found["api"]["depends_on"]["seed"]["condition"] == "service_completed_successfully"


def local(value: str, database_url: str, redis_url: str) -> str:
    """A compose value with the containers' host names replaced by the local services."""
    if value.startswith("postgresql"):
        return database_url
    if value.startswith("redis://"):
        return redis_url
    return value


def native_command(command: list[str]) -> list[str]:
    """The service's command, on a free local port."""
    native, port = list(command), str(free_port())
    for index, part in enumerate(native):
        if part == "--port" and index + 1 < len(native):
            native[index + 1] = port
        elif part.startswith("--port="):
            native[index] = f"--port={port}"
        elif part == "0.0.0.0":
            native[index] = "127.0.0.1"
        elif part.startswith("--address="):
            native[index] = "--address=127.0.0.1"
    return native


@pytest.mark.parametrize("name", ["seed", "api", "web", "worker", "flower"])
def test_each_service_command_starts(name: str, solutions_tree: Path, tmp_path: Path) -> None:
    settings = get_settings().model_copy(update={"mode": Mode.SERVICES})
    reachable, why = services_status(settings)
    if not reachable:
        if settings.services == "required":
            pytest.fail(f"COURSE_SERVICES=required but {why}")
        pytest.skip(why)
    service = services()[name]
    env = {key: str(value) for key, value in service["environment"].items()}
    env = {key: local(value, settings.database_url, settings.redis_url) for key, value in env.items()}
    env["COURSE_RUN_ID"] = f"compose-{uuid.uuid4().hex[:8]}"  # its own queues and keys, not another run's
    if "PROMETHEUS_MULTIPROC_DIR" in env:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    subprocess.run(
        [sys.executable, "-m", "labs.lesson16_production.seed"],
        cwd=solutions_tree,
        env={**os.environ, **env},
        timeout=60,
        check=True,
        capture_output=True,
    )
    command = native_command(service["command"])
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # the venv's uvicorn and celery
    log = tmp_path / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=solutions_tree,
            env={**os.environ, **env, "PATH": path},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        if name in ONE_SHOT:
            process.wait(timeout=60)
            assert process.returncode == 0, log.read_text(errors="replace")[-2000:]
            return
        deadline = time.monotonic() + RUNNING_FOR
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"{name} stopped with {process.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
