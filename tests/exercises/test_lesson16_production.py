"""Graded checks for lesson 16: production — blocking calls, health probes, metrics across workers.

The checks talk to the app over HTTP only, and read from outside the files it writes. Settings
come through ``lab(env=...)``: how long the legacy sales report blocks (``STORE_REPORT_SECONDS``),
which environment the app runs in (``STORE_APP_ENV``), a Redis or a database that cannot be
reached (``STORE_REDIS_URL``, ``STORE_DATABASE_URL``), and the multiprocess metrics directory
(``PROMETHEUS_MULTIPROC_DIR``), a directory the check shares with the app. Another worker process
is played by the check: it writes that worker's metrics file in the directory, as prometheus_client
would have, before the app starts.

Every wait is bounded; timings are measured from when a request was due, not when it was sent.
"""

import asyncio
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from httpx import AsyncClient
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families

from course.harness import SharedDirectory
from course.pytest_plugin import LabFactory

from .expect import describe, expect_json, expect_status, isolated_settings

hermetic_settings = isolated_settings("STORE_")
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
UNREACHABLE_DATABASE = "sqlite:////nonexistent-store-directory/store.sqlite"  # a directory that does not exist
REQUESTS = "store_http_requests"
IN_PROGRESS = "store_http_requests_in_progress"
ATTEMPTS = 3  # checks about timing: a correct app passes in one of them however busy the machine
OTHER_WORKER = 4_000_001  # the pid of the worker the check plays: no real process has it here


@pytest.fixture(autouse=True)
def no_multiprocess_directory(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only the directory a check passes to `lab` counts, not one of the caller's shell."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.delenv("prometheus_multiproc_dir", raising=False)
    yield


@asynccontextmanager
async def opened(lab: LabFactory, env: Mapping[str, str] | None = None) -> AsyncIterator[AsyncClient]:
    """``lab(env=env)``; a check that fails inside reports its own message, not an exception group around it."""
    try:
        async with lab(env=dict(env or {})) as client:
            yield client
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1 and isinstance(group.exceptions[0], Exception):
            raise group.exceptions[0] from None
        raise


# --- 16.1: a blocking call in an async route --------------------------------------------------------------------


async def in_one_of_attempts(scenario: Callable[[], Awaitable[None]], attempts: int = ATTEMPTS) -> None:
    """Run a scenario about timing until it passes, at most ``attempts`` times: a correct app that a busy machine
    slowed once passes the next time, while an app that blocks its event loop fails every time."""
    for attempt in range(1, attempts + 1):
        try:
            await scenario()
            return
        except AssertionError:
            if attempt == attempts:
                raise


async def timed_get(client: AsyncClient, path: str, started: float) -> tuple[httpx.Response, float]:
    """The response, and when it came back, in seconds after ``started``."""
    response = await client.get(path)
    return response, time.monotonic() - started


async def probe_at(client: AsyncClient, due: float, started: float) -> tuple[httpx.Response, float]:
    """``GET /health/live`` sent ``due`` seconds after ``started``: the response and how late it came back."""
    await asyncio.sleep(max(0.0, started + due - time.monotonic()))
    response, at = await timed_get(client, "/health/live", started)
    return response, at - due


@pytest.mark.exercise("16.1", points=2)
async def test_a_slow_report_does_not_stall_other_requests(lab: LabFactory) -> None:
    """With STORE_REPORT_SECONDS=1.2, GET /reports/sales takes at least 1.2 s and answers 200 with the report. While
    it runs, GET /health/live requests due 0.3, 0.5 and 0.7 s after it was sent each answer within 0.4 s of being
    due, before the report is done: the report's blocking client must not hold the event loop."""

    async def scenario() -> None:
        async with opened(lab, {"STORE_REPORT_SECONDS": "1.2"}) as client:
            started = time.monotonic()
            report_task = asyncio.create_task(timed_get(client, "/reports/sales", started))
            probes = [asyncio.create_task(probe_at(client, due, started)) for due in (0.3, 0.5, 0.7)]
            answers = await asyncio.wait_for(asyncio.gather(*probes), timeout=10)
            report, report_took = await asyncio.wait_for(report_task, timeout=10)
        body = expect_json(report, 200)
        assert body == {"products": 4, "total_cents": 19_100}, (
            f"{describe(report)}; expected the legacy client's report"
        )
        assert report_took >= 1.2, (
            f"{describe(report)} after {report_took:.2f} s; the report takes 1.2 s (STORE_REPORT_SECONDS): expected it"
            " to still call the legacy client"
        )
        for due, (response, late) in zip((0.3, 0.5, 0.7), answers, strict=True):
            expect_status(response, 200)
            assert late <= 0.4, (
                f"{describe(response)} {late:.2f} s after it was due ({due} s into a 1.2 s report); expected it within"
                " 0.4 s. The report's blocking call runs in the event loop and stalls every other request: run it in"
                " the thread pool"
            )
            assert due + late < report_took, (
                f"{describe(response)} came back after the report ({due + late:.2f} s ≥ {report_took:.2f} s);"
                " expected it while the report was still running"
            )

    await in_one_of_attempts(scenario)


@pytest.mark.exercise("16.1", points=1)
async def test_two_reports_run_at_once(lab: LabFactory) -> None:
    """With STORE_REPORT_SECONDS=0.8, two GET /reports/sales sent together both answer 200, each after at least
    0.8 s, and both within 1.35 s: they run at the same time, not one after the other."""

    async def scenario() -> None:
        async with opened(lab, {"STORE_REPORT_SECONDS": "0.8"}) as client:
            started = time.monotonic()
            both = await asyncio.wait_for(
                asyncio.gather(*(timed_get(client, "/reports/sales", started) for _ in range(2))), timeout=10
            )
        for response, took in both:
            expect_json(response, 200)
            assert 0.8 <= took <= 1.35, (
                f"{describe(response)} after {took:.2f} s; two reports of 0.8 s each sent together: expected each"
                " to answer after 0.8 to 1.35 s. Reports waiting for one another run one at a time"
            )

    await in_one_of_attempts(scenario)


# --- 16.2: health probes and settings per environment -----------------------------------------------------------


def health_of(response: httpx.Response, status: int) -> dict[str, Any]:
    body = expect_json(response, status)
    assert isinstance(body, dict) and isinstance(body.get("checks"), dict), (
        f'{describe(response)}; expected a JSON object with `checks`, each dependency → "ok" or its error'
    )
    return body


@pytest.mark.exercise("16.2", points=1)
async def test_live_and_ready_when_everything_answers(client: AsyncClient) -> None:
    """GET /health/live answers 200 {"status": "ok"}. GET /health/ready answers 200 with status "ready" and
    checks {"database": "ok", "redis": "ok"} when both answer."""
    live = await client.get("/health/live")
    assert expect_json(live, 200).get("status") == "ok", f'{describe(live)}; expected status "ok"'
    ready = await client.get("/health/ready")
    body = health_of(ready, 200)
    assert body.get("status") == "ready" and body["checks"] == {"database": "ok", "redis": "ok"}, (
        f'{describe(ready)}; expected status "ready" and checks {{"database": "ok", "redis": "ok"}}'
    )


@pytest.mark.exercise("16.2", points=2)
async def test_ready_names_the_dependency_that_is_down(lab: LabFactory) -> None:
    """When Redis cannot be reached (STORE_REDIS_URL), the database (STORE_DATABASE_URL, with STORE_CREATE_TABLES
    false), or both, GET /health/ready answers 503 with status "unavailable" and checks giving "ok" for each
    dependency that answers and something else for each that does not; it answers within 3 s. GET /health/live
    still answers 200: liveness checks no dependency."""
    cases = {
        "Redis": ({"STORE_REDIS_URL": UNREACHABLE_REDIS}, {"redis"}),
        "the database": ({"STORE_DATABASE_URL": UNREACHABLE_DATABASE, "STORE_CREATE_TABLES": "false"}, {"database"}),
        "both": (
            {
                "STORE_REDIS_URL": UNREACHABLE_REDIS,
                "STORE_DATABASE_URL": UNREACHABLE_DATABASE,
                "STORE_CREATE_TABLES": "false",
            },
            {"database", "redis"},
        ),
    }
    for what, (env, down) in cases.items():
        async with opened(lab, env) as client:
            live = await client.get("/health/live")
            expect_status(live, 200, f"with {what} down: liveness must not depend on it")
            started = time.monotonic()
            ready = await asyncio.wait_for(client.get("/health/ready"), timeout=5)
            took = time.monotonic() - started
        body = health_of(ready, 503)
        checks = body["checks"]
        assert body.get("status") == "unavailable", f'{describe(ready)}; expected status "unavailable"'
        for name in ("database", "redis"):
            result = checks.get(name)
            if name in down:
                assert isinstance(result, str) and result != "ok", (
                    f"{describe(ready)}; with {what} down, expected checks[{name!r}] to say what went wrong"
                )
            else:
                assert result == "ok", f'{describe(ready)}; with {what} down, expected checks[{name!r}] == "ok"'
        assert took <= 3, f"{describe(ready)} after {took:.1f} s; expected an answer within 3 s"


DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")


@pytest.mark.exercise("16.2", points=1)
async def test_docs_are_hidden_in_production(lab: LabFactory) -> None:
    """With STORE_APP_ENV=production, /docs, /redoc and /openapi.json answer 404 while the API still serves
    /products and /health/live; with STORE_APP_ENV=development (and by default) all three answer 200."""
    async with opened(lab, {"STORE_APP_ENV": "production"}) as client:
        for path in DOCS_PATHS:
            expect_status(await client.get(path), 404, "in production: no docs and no OpenAPI schema")
        expect_json(await client.get("/products"), 200)
        expect_json(await client.get("/health/live"), 200)
    for env in ({"STORE_APP_ENV": "development"}, {}):
        async with opened(lab, env) as client:
            for path in DOCS_PATHS:
                expect_status(await client.get(path), 200, f"in development ({env or 'the default'})")


# --- 16.3: metrics and state across worker processes ------------------------------------------------------------


def plant_worker(directory: str, counts: Mapping[tuple[str, str, str], float], pid: int = OTHER_WORKER) -> None:
    """Write what another worker's prometheus_client would have left: its counter file, with these counts."""
    file = MmapedDict(os.path.join(directory, f"counter_{pid}.db"))
    try:
        for (method, route, status), value in counts.items():
            key = mmap_key(
                REQUESTS, f"{REQUESTS}_total", ["method", "route", "status"], [method, route, status], "Requests."
            )
            file.write_value(key, value, 0.0)
    finally:
        file.close()


def samples(response: httpx.Response, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples named ``name`` in a Prometheus text exposition: labels (sorted) → value."""
    expect_status(response, 200)
    found: dict[tuple[tuple[str, str], ...], float] = {}
    try:
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                if sample.name == name:
                    found[tuple(sorted(sample.labels.items()))] = sample.value
    except ValueError as exc:
        raise AssertionError(f"GET /metrics → not Prometheus' text format ({exc})") from None
    return found


def request_count(found: Mapping[tuple[tuple[str, str], ...], float], method: str, route: str, status: str) -> float:
    return found.get((("method", method), ("route", route), ("status", status)), 0.0)


@pytest.mark.exercise("16.3", points=2)
async def test_metrics_add_up_every_worker(lab: LabFactory, shared_directory: SharedDirectory) -> None:
    """With PROMETHEUS_MULTIPROC_DIR set, GET /metrics serves store_http_requests_total (labels method, route, status)
    summed over every worker's file in that directory: another worker that answered GET /products 5 times and
    GET /products/{product_id} twice, plus this app's 3 and 2, make 8 and 4."""
    plant_worker(shared_directory.path, {("GET", "/products", "200"): 5, ("GET", "/products/{product_id}", "200"): 2})
    async with opened(lab, {"PROMETHEUS_MULTIPROC_DIR": shared_directory.path}) as client:
        for path in ("/products", "/products", "/products", "/products/1", "/products/2"):
            expect_json(await client.get(path), 200)
        response = await client.get("/metrics")
    found = samples(response, f"{REQUESTS}_total")
    for route, expected in (("/products", 8), ("/products/{product_id}", 4)):
        got = request_count(found, "GET", route, "200")
        assert got == expected, (
            f'GET /metrics → store_http_requests_total{{method="GET",route="{route}",status="200"}} is {got:g};'
            f" expected {expected}: this worker's requests plus the other worker's, read from PROMETHEUS_MULTIPROC_DIR"
        )


@pytest.mark.exercise("16.3", points=1)
async def test_requests_are_labelled_by_route_template(lab: LabFactory, shared_directory: SharedDirectory) -> None:
    """The route label is the route's template: GET /products/1, /products/2 and /products/3 count 3 under
    route "/products/{product_id}" and status "200", GET /products/999999 one under status "404"; no label holds a
    product id, nor a path no route matches (GET /no-such-page-7f3a answers 404)."""
    async with opened(lab, {"PROMETHEUS_MULTIPROC_DIR": shared_directory.path}) as client:
        for product_id in (1, 2, 3):
            expect_json(await client.get(f"/products/{product_id}"), 200)
        expect_status(await client.get("/products/999999"), 404)
        expect_status(await client.get("/no-such-page-7f3a"), 404)
        response = await client.get("/metrics")
    found = samples(response, f"{REQUESTS}_total")
    for status, expected in (("200", 3), ("404", 1)):
        got = request_count(found, "GET", "/products/{product_id}", status)
        assert got == expected, (
            f'GET /metrics → route "/products/{{product_id}}", status {status}: {got:g}; expected {expected}'
        )
    raw = sorted(
        {value for labels in found for key, value in labels if key == "route" and re.search(r"/\d|7f3a", value)}
    )
    assert not raw, f"GET /metrics → route labels {raw}: one series per id or per unknown path; expected templates"


@pytest.mark.exercise("16.3", points=1)
async def test_views_are_counted_for_every_worker(lab: LabFactory) -> None:
    """A product's views are shared by every instance of the app: a new product read twice through one instance and
    once through another shows views 3 in the last answer, and in GET /products from the first."""
    async with opened(lab) as first, opened(lab) as second:
        created = await first.post("/products", json={"name": f"Mug {uuid.uuid4().hex[:12]}", "price_cents": 1200})
        product = expect_json(created, 201)
        path = f"/products/{product['id']}"
        for client in (first, first, second):
            last = await client.get(path)
        body = expect_json(last, 200)
        assert body.get("views") == 3, (
            f"{describe(last)}; read twice through one instance and once through another: expected views 3."
            " A count in one process's memory misses what the other workers served"
        )
        listed = await first.get("/products")
        views = [item.get("views") for item in expect_json(listed, 200) if item.get("id") == product["id"]]
        assert views == [3], f"{describe(listed)}; expected product {product['id']} with views 3, got {views}"


@pytest.mark.exercise("16.3", points=1)
async def test_a_stopped_worker_leaves_the_live_sum(lab: LabFactory, shared_directory: SharedDirectory) -> None:
    """store_http_requests_in_progress counts the requests being handled: 2 while a 0.8 s report runs and /metrics
    is read. When the app stops, it marks its process dead: no live-gauge file of it (gauge_live*) is left in
    PROMETHEUS_MULTIPROC_DIR."""
    env = {"PROMETHEUS_MULTIPROC_DIR": shared_directory.path, "STORE_REPORT_SECONDS": "0.8"}
    async with opened(lab, env) as client:
        report = asyncio.create_task(client.get("/reports/sales"))
        await asyncio.sleep(0.3)
        response = await client.get("/metrics")
        expect_json(await asyncio.wait_for(report, timeout=10), 200)
    in_progress = samples(response, IN_PROGRESS).get((), None)
    assert in_progress == 2, (
        f"GET /metrics during a report → {IN_PROGRESS} is {in_progress}; expected 2 (the report and this request)"
    )
    left = sorted(name for name in shared_directory.files() if name.startswith("gauge_live"))
    assert not left, (
        f"after the app stopped, PROMETHEUS_MULTIPROC_DIR still holds {left}; expected the stopping worker to call"
        " mark_process_dead, or a dead worker's requests in progress stay in the sum"
    )
