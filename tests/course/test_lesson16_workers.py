"""Lesson 16 with real worker processes: ``serve.py`` runs two uvicorn workers, and /metrics adds them up.

The graded checks play a second worker by writing its metrics file; this test runs the real
thing, against the solutions, in either mode: the seed step, then ``python -m
labs.lesson16_production.serve --workers 2`` on a unix socket, requests on new connections until
both workers have served some, scrapes that must always show the total, and SIGTERM, after which
no worker's live gauge is left. It also shows that the server empties the metrics directory.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

WAIT = 20.0  # seconds any one thing below may take


def env_for(tmp_path: Path, metrics: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("STORE_")}
    return {
        **env,
        "STORE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
        "STORE_CREATE_TABLES": "false",  # the seed step made them: workers starting together must not race
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }


@pytest.fixture
def server(solutions_tree: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path]]:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_99999999.db").write_bytes(b"left by a previous run")
    env = env_for(tmp_path, metrics)
    seeded = subprocess.run(
        [sys.executable, "-m", "labs.lesson16_production.seed"], cwd=solutions_tree, env=env, timeout=WAIT
    )
    assert seeded.returncode == 0
    api = tmp_path / "api.sock"
    process = subprocess.Popen(
        [sys.executable, "-m", "labs.lesson16_production.serve", "--uds", str(api), "--workers", "2"],
        cwd=solutions_tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process, api, metrics
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=WAIT)


def get(api: Path, path: str) -> httpx.Response:
    """A request on a new connection: the kernel gives each connection to one worker or the other."""
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(api)), base_url="http://storefront", timeout=5) as c:
        return c.get(path)


def products_served(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "store_http_requests_total" and sample.labels.get("route") == "/products":
                return sample.value
    return 0.0


def test_two_workers_add_up_their_metrics(server: tuple[subprocess.Popen[bytes], Path, Path]) -> None:
    process, api, metrics = server
    deadline = time.monotonic() + WAIT
    while not listening(api):
        assert process.poll() is None, "the server stopped"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)
    assert not (metrics / "counter_99999999.db").exists(), "the server must empty the metrics directory first"
    sent = 0
    while len(list(metrics.glob("counter_*.db"))) < 2:  # until both workers have written their counters
        assert time.monotonic() < deadline, "one worker served every request"
        assert get(api, "/products").status_code == 200
        sent += 1
    assert get(api, "/products").status_code == 200
    sent += 1
    for _ in range(6):  # whichever worker answers the scrape, it shows the total
        assert products_served(get(api, "/metrics").text) == sent
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=WAIT)
    assert not list(metrics.glob("gauge_live*.db")), "each stopping worker must mark itself dead"


def listening(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True
