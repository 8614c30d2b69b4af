"""Graded checks for lesson 10: reports built in the background, with BackgroundTasks and Celery.

The checks talk to the app over HTTP only. The app runs its own Celery workers (a thread on a
memory broker, or processes on Redis), so a report the check asks for is built by a real worker,
and the check follows it through ``GET /reports/{id}`` and ``GET /reports/{id}/attempts``.
Settings through ``lab(env=...)`` keep every task small: how long reading one day takes
(``REPORTS_DAY_SECONDS``), how many attempts the warehouse refuses (``REPORTS_WAREHOUSE_OUTAGE``),
the retry delays and the monitor's interval. The warehouse has no data before 2023-01-01.

Every wait polls with short sleeps, up to a bound.
"""

import email
import email.policy
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import anyio
import pytest
from httpx import AsyncClient

from course.harness import SharedDirectory
from course.pytest_plugin import LabFactory

from .expect import describe, expect_json, isolated_settings

POLL = 0.02  # seconds between two looks at a report, a delivery or the alerts
FINISHED = frozenset({"done", "failed"})
# Periods: three days with data; days before the warehouse's first day (2023-01-01), whose report fails.
WITH_DATA = {"date_from": "2024-03-01", "date_to": "2024-03-03"}
ONE_DAY = {"date_from": "2024-03-04", "date_to": "2024-03-04"}
TEN_DAYS = {"date_from": "2024-04-01", "date_to": "2024-04-10"}
WITHOUT_DATA = {"date_from": "2022-12-30", "date_to": "2023-01-02"}
ALSO_WITHOUT_DATA = {"date_from": "2022-06-01", "date_to": "2022-06-01"}
QUICK = {"REPORTS_DAY_SECONDS": "0"}

hermetic_settings = isolated_settings("REPORTS_")


@asynccontextmanager
async def opened(lab: LabFactory, env: Mapping[str, str]) -> AsyncIterator[AsyncClient]:
    """``lab(env=env)``; a check that fails inside reports its own message, not an exception group around it."""
    try:
        async with lab(env=env) as client:
            yield client
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1 and isinstance(group.exceptions[0], Exception):
            raise group.exceptions[0] from None
        raise


async def request_report(client: AsyncClient, period: dict[str, str], priority: str | None = None) -> int:
    """POST /reports; the new report's id."""
    body = {**period, **({"priority": priority} if priority else {})}
    response = await client.post("/reports", json=body)
    report = expect_json(response, 202, "(a report is accepted at once, and built later by a worker)")
    assert isinstance(report, dict) and isinstance(report.get("id"), int), f"{describe(response)}; expected an `id`"
    return report["id"]


async def report_of(client: AsyncClient, report_id: int) -> dict[str, Any]:
    response = await client.get(f"/reports/{report_id}")
    report = expect_json(response, 200)
    assert isinstance(report, dict) and "status" in report, f"{describe(response)}; expected a report with a status"
    return report


async def finished(client: AsyncClient, report_id: int, within: float = 10.0) -> dict[str, Any]:
    """The report once it is done or failed, looking every POLL seconds for ``within`` seconds at most."""
    deadline = time.monotonic() + within
    report = await report_of(client, report_id)
    while report["status"] not in FINISHED:
        assert time.monotonic() < deadline, (
            f"GET /reports/{report_id} → still {report['status']!r} after {within:g} s; expected done or failed"
        )
        await anyio.sleep(POLL)
        report = await report_of(client, report_id)
    return report


async def done(client: AsyncClient, period: dict[str, str]) -> int:
    """A report that a worker has finished building, and its id."""
    report_id = await request_report(client, period)
    report = await finished(client, report_id)
    assert report["status"] == "done", f"GET /reports/{report_id} → {report}; expected the report to be done"
    return report_id


async def attempts_of(client: AsyncClient, report_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/reports/{report_id}/attempts")
    attempts = expect_json(response, 200)
    assert isinstance(attempts, list) and all(isinstance(item, dict) for item in attempts), (
        f"{describe(response)}; expected a list of attempts"
    )
    return attempts


def summary(attempts: list[dict[str, Any]]) -> str:
    """The attempts as a reader wants them: when each started, relative to the first, and its error."""
    if not attempts:
        return "no attempts"
    first = attempts[0].get("started_at", 0)
    return "; ".join(
        f"#{item.get('number')} at +{item.get('started_at', 0) - first:.3f} s: {item.get('error') or 'ok'}"
        for item in attempts
    )


# --- 10.1: a background task whose failure is recorded by an error callback -------------------------------


async def delivery_after_the_response(client: AsyncClient, report_id: int, to: str) -> dict[str, Any]:
    """POST a delivery, check the immediate answer, then follow it until it is no longer pending."""
    # A server closes the connection of a request whose background task raised: the next request must not
    # depend on reusing it, so that an app which records the error and then raises it still passes.
    response = await client.post(f"/reports/{report_id}/deliveries", json={"to": to}, headers={"Connection": "close"})
    delivery = expect_json(response, 202, "(the e-mail is sent after the response)")
    expected = {"report_id": report_id, "to": to, "status": "pending"}
    assert isinstance(delivery, dict) and isinstance(delivery.get("id"), int), f"{describe(response)}; expected an id"
    assert {key: delivery.get(key) for key in expected} == expected, (
        f"{describe(response)}; expected the new delivery {expected}: it is sent after the response"
    )
    deadline = time.monotonic() + 3.0
    while True:
        followed = await client.get(f"/deliveries/{delivery['id']}")
        delivery = expect_json(followed, 200)
        if delivery.get("status") != "pending":
            return dict(delivery)
        assert time.monotonic() < deadline, (
            f"{describe(followed)}; expected the delivery to be sent or failed within 3 s, after the response:"
            " still pending. Does send_in_background let an exception escape, instead of giving it to"
            " record_failure?"
        )
        await anyio.sleep(POLL)


def messages_in(files: dict[str, bytes]) -> list[EmailMessage]:
    return [
        email.message_from_bytes(content, policy=email.policy.default)
        for name, content in sorted(files.items())
        if name.endswith(".eml")
    ]


@pytest.mark.exercise("10.1", points=2)
async def test_a_delivery_is_sent_after_the_response(lab: LabFactory, shared_directory: SharedDirectory) -> None:
    """POST /reports/{id}/deliveries with {"to": "ana@example.com"} for a report that is done answers 202 at once
    with the delivery (`id`, `report_id`, `to`, `status` "pending"); after the response, the e-mail is written to
    the outbox (REPORTS_OUTBOX), addressed to ana@example.com with the report's CSV attached, and
    GET /deliveries/{id} shows `status` "sent" with no `error`."""
    async with opened(lab, {**QUICK, "REPORTS_OUTBOX": shared_directory.path}) as client:
        report_id = await done(client, WITH_DATA)
        csv = (await client.get(f"/reports/{report_id}/download")).text
        delivery = await delivery_after_the_response(client, report_id, "ana@example.com")
        assert (delivery.get("status"), delivery.get("error")) == ("sent", None), (
            f"GET /deliveries/{delivery.get('id')} → {delivery}; expected status sent and no error"
        )
        messages = messages_in(shared_directory.files())
        assert len(messages) == 1, f"expected one e-mail in the outbox, found {len(messages)}"
        message = messages[0]
        assert message["To"] == "ana@example.com", f"expected the e-mail to go to ana@example.com, not {message['To']}"
        attached = [part.get_content() for part in message.iter_attachments()]
        assert csv in attached, f"expected the report's CSV attached to the e-mail, {csv!r}; found {attached}"


@pytest.mark.exercise("10.1", points=2)
async def test_a_failed_delivery_is_recorded_by_the_error_callback(lab: LabFactory, tmp_path: Path) -> None:
    """When sending fails (REPORTS_OUTBOX names a folder that does not exist: the mail server is down), POST
    /reports/{id}/deliveries still answers 202 with `status` "pending"; after the response, the error goes to the
    error callback, and GET /deliveries/{id} shows `status` "failed" with an `error` that says why (a non-empty
    text). A second delivery fails the same way, and the first stays failed."""
    async with opened(lab, {**QUICK, "REPORTS_OUTBOX": str(tmp_path / "no-such-folder")}) as client:
        report_id = await done(client, WITH_DATA)
        first = await delivery_after_the_response(client, report_id, "ana@example.com")
        second = await delivery_after_the_response(client, report_id, "ben@example.com")
        for delivery in (first, second):
            error = delivery.get("error")
            assert delivery.get("status") == "failed" and isinstance(error, str) and error.strip(), (
                f"GET /deliveries/{delivery.get('id')} → {delivery}; expected status failed with an error that says"
                " why: the mail server is not reachable"
            )
        again = expect_json(await client.get(f"/deliveries/{first['id']}"), 200)
        assert again == first, f"GET /deliveries/{first['id']} → {again}; expected it unchanged, {first}"


# --- 10.2: retries with exponential backoff -------------------------------------------------------------

RETRY_DELAY = 0.3


@pytest.mark.exercise("10.2", points=3)
async def test_an_unavailable_warehouse_is_retried_with_exponential_backoff(lab: LabFactory) -> None:
    """While the warehouse is unavailable, the report's task retries: with REPORTS_RETRY_DELAY=0.3, the 2nd, 3rd
    and 4th attempts start 0.3, 0.6 and 1.2 s after the attempt before them (never sooner), and the 4th starts no later
    than 1.5 times their 2.1 s plus 0.05 s after the 1st, each attempt that failed recording the warehouse's error.
    With REPORTS_WAREHOUSE_OUTAGE=3 and REPORTS_MAX_RETRIES=3, the 4th attempt succeeds and the report is done."""
    env = {**QUICK, "REPORTS_WAREHOUSE_OUTAGE": "3", "REPORTS_MAX_RETRIES": "3", "REPORTS_RETRY_DELAY": "0.3"}
    async with opened(lab, env) as client:
        report_id = await request_report(client, WITH_DATA)
        report = await finished(client, report_id)
        attempts = await attempts_of(client, report_id)
        told = f"GET /reports/{report_id}/attempts → {summary(attempts)}"
        assert len(attempts) == 4, f"{told}; expected 4 attempts: 3 refused by the warehouse, then one that works"
        assert report["status"] == "done", f"GET /reports/{report_id} → {report}; expected done after 4 attempts"
        errors = [attempt.get("error") for attempt in attempts]
        assert all(errors[:3]) and errors[3] is None, f"{told}; expected 3 attempts with the warehouse's error"
        plan = [RETRY_DELAY * 2**retries for retries in range(3)]
        starts = [attempt["started_at"] for attempt in attempts]
        for number, planned in enumerate(plan, start=2):
            waited = starts[number - 1] - starts[number - 2]
            assert waited >= planned - 0.02, (
                f"{told}; expected attempt {number} to start {planned:g} s after attempt {number - 1}"
                f" (REPORTS_RETRY_DELAY × 2**{number - 2}), not {waited:.3f} s"
            )
        # A countdown is the earliest a retry runs: a busy machine may start one late, never early. So lateness
        # is judged on the whole backoff, where a spike fits and a doubled exponent (4.2 s) does not.
        latest, took = sum(plan) * 1.5 + 0.05, starts[3] - starts[0]
        assert took <= latest, (
            f"{told}; expected the 4th attempt {sum(plan):g} s after the 1st ({' + '.join(f'{p:g}' for p in plan)}),"
            f" and no later than {latest:g} s, not {took:.3f} s"
        )


@pytest.mark.exercise("10.2", points=2)
async def test_retries_stop_at_the_limit_and_only_the_warehouse_is_retried(lab: LabFactory) -> None:
    """With REPORTS_MAX_RETRIES=2 and a warehouse that refuses 3 attempts, the report fails after exactly 3 attempts,
    and its `error` is the warehouse's error, the same as each attempt's. A report of days without data
    (before 2023-01-01) fails at its first attempt: no retry helps there."""
    env = {**QUICK, "REPORTS_WAREHOUSE_OUTAGE": "3", "REPORTS_MAX_RETRIES": "2", "REPORTS_RETRY_DELAY": "0.05"}
    async with opened(lab, env) as client:
        report_id = await request_report(client, WITH_DATA)
        report = await finished(client, report_id)
        attempts = await attempts_of(client, report_id)
        told = f"GET /reports/{report_id}/attempts → {summary(attempts)}"
        assert len(attempts) == 3, f"{told}; expected 3 attempts: the first and 2 retries"
        errors = {attempt.get("error") for attempt in attempts}
        assert report["status"] == "failed" and len(errors) == 1 and report.get("error") in errors, (
            f"GET /reports/{report_id} → {report}; {told}; expected the report failed with the warehouse's error,"
            " as each attempt recorded it"
        )
    async with opened(lab, {**QUICK, "REPORTS_MAX_RETRIES": "2", "REPORTS_RETRY_DELAY": "0.05"}) as client:
        report_id = await request_report(client, WITHOUT_DATA)
        report = await finished(client, report_id)
        attempts = await attempts_of(client, report_id)
        assert report["status"] == "failed" and len(attempts) == 1, (
            f"GET /reports/{report_id} → {report}; GET /reports/{report_id}/attempts → {summary(attempts)};"
            " expected a report of days without data to fail at its first attempt"
        )


# --- 10.3: the API's monitor raises one alert per failed report ---------------------------------------------


async def alerts_once_settled(client: AsyncClient, expected: int, within: float = 3.0) -> list[dict[str, Any]]:
    """GET /alerts once it lists ``expected`` alerts (or the time is up), and again after more monitor passes."""
    deadline = time.monotonic() + within
    while True:
        alerts = expect_json(await client.get("/alerts"), 200)
        assert isinstance(alerts, list), f"GET /alerts → {alerts}; expected a list"
        if len(alerts) >= expected or time.monotonic() > deadline:
            break
        await anyio.sleep(POLL)
    await anyio.sleep(0.3)  # several more passes of a monitor that looks every 0.05 s
    alerts = expect_json(await client.get("/alerts"), 200)
    assert isinstance(alerts, list), f"GET /alerts → {alerts}; expected a list"
    return alerts


def expect_alerts(alerts: list[dict[str, Any]], failed: dict[int, str], what: str) -> None:
    got = sorted((alert.get("report_id"), alert.get("error")) for alert in alerts if isinstance(alert, dict))
    wanted = sorted(failed.items())
    hint = (
        " The monitor runs check_reports every REPORTS_MONITOR_INTERVAL seconds; does a pass raise?" if not got else ""
    )
    assert got == wanted, (
        f"GET /alerts → {alerts}; expected exactly one alert per failed report, with the report's error,"
        f" {[{'report_id': report, 'error': error} for report, error in wanted]} ({what}).{hint}"
    )


@pytest.mark.exercise("10.3", points=2)
async def test_each_failed_report_raises_one_alert(lab: LabFactory) -> None:
    """With REPORTS_MONITOR_INTERVAL=0.05, the monitor raises exactly one alert for each report that failed, with
    its `report_id` and the report's `error`, and none for a report that is done: GET /alerts lists them, and still
    lists each one once after many more passes of the monitor. Each report takes 0.2 s a day
    (REPORTS_DAY_SECONDS=0.2), so the monitor surely looks at each while it runs, whatever the machine's load: a
    quicker report would make a monitor that settles unfinished reports pass or fail by chance."""
    async with opened(lab, {"REPORTS_DAY_SECONDS": "0.2", "REPORTS_MONITOR_INTERVAL": "0.05"}) as client:
        ids = [await request_report(client, period) for period in (WITHOUT_DATA, WITH_DATA, ALSO_WITHOUT_DATA)]
        reports = [await finished(client, report_id) for report_id in ids]
        statuses = [report["status"] for report in reports]
        assert statuses == ["failed", "done", "failed"], f"expected the reports failed, done, failed; got {statuses}"
        failed = {report["id"]: report["error"] for report in reports if report["status"] == "failed"}
        expect_alerts(await alerts_once_settled(client, 2), failed, "two reports failed, one is done")


@pytest.mark.exercise("10.3", points=1)
async def test_a_report_still_running_is_watched_until_it_fails(lab: LabFactory) -> None:
    """A report that the monitor sees queued or running, pass after pass, is watched until it finishes: when it
    fails (here after 0.5 s, with REPORTS_DAY_SECONDS=0.5 and REPORTS_MONITOR_INTERVAL=0.05), it gets its one
    alert."""
    async with opened(lab, {"REPORTS_DAY_SECONDS": "0.5", "REPORTS_MONITOR_INTERVAL": "0.05"}) as client:
        report_id = await request_report(client, ALSO_WITHOUT_DATA)
        report = await finished(client, report_id)
        assert report["status"] == "failed", f"GET /reports/{report_id} → {report}; expected it to fail"
        expect_alerts(await alerts_once_settled(client, 1), {report_id: report["error"]}, "it failed after 0.5 s")


# --- 10.4: a priority queue with a worker of its own ---------------------------------------------------------


async def finished_first(client: AsyncClient, first: int, other: int, what: str) -> None:
    """``first`` is done while ``other`` has not finished yet."""
    report = await finished(client, first, within=5.0)
    assert report["status"] == "done", f"GET /reports/{first} → {report}; expected done"
    overtaken = await report_of(client, other)
    assert overtaken["status"] not in FINISHED, (
        f"GET /reports/{other} → {overtaken}; expected report {other} still {'queued or running'} when report"
        f" {first} is done: {what}"
    )


# A long report takes 2 s and a short one 0.2 s: a loaded machine that starts the short one late still finishes it
# well before the long one, while a short report that waits behind a long one finishes after it.
PRIORITY_PACE = {"REPORTS_DAY_SECONDS": "0.2"}


@pytest.mark.exercise("10.4", points=3)
async def test_a_high_priority_report_overtakes_the_backlog(lab: LabFactory) -> None:
    """With REPORTS_DAY_SECONDS=0.2, three normal reports of 10 days (2 s each) form a backlog; a high-priority
    report of one day asked for after them goes to the priority queue, whose worker is free, and is done while the
    first of the backlog is still being built."""
    async with opened(lab, PRIORITY_PACE) as client:
        backlog = [await request_report(client, TEN_DAYS) for _ in range(3)]
        urgent = await request_report(client, ONE_DAY, "high")
        await finished_first(client, urgent, backlog[0], "a high-priority report does not wait behind normal ones")


@pytest.mark.exercise("10.4", points=1)
async def test_normal_reports_do_not_wait_for_high_priority_ones(lab: LabFactory) -> None:
    """The priority queue's worker takes high-priority reports only: with REPORTS_DAY_SECONDS=0.2, a normal report
    of one day asked for after a high-priority report of 10 days is done while the high-priority one is still being
    built."""
    async with opened(lab, PRIORITY_PACE) as client:
        long_urgent = await request_report(client, TEN_DAYS, "high")
        normal = await request_report(client, ONE_DAY)
        await finished_first(client, normal, long_urgent, "each queue has a worker of its own")
