"""Graded checks for lesson 02: Pydantic validation, response models and settings."""

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from course.pytest_plugin import LabFactory

from .expect import describe, expect_json

NEW_OPERATION = {
    "ticker": "MSFT",
    "instrument_type": "share",
    "side": "buy",
    "quantity": "3",
    "price": "410.10",
    "currency": "USD",
    "executed_at": "2024-03-05T16:45:00Z",
}


@pytest.fixture(autouse=True)
def hermetic_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Only the environment a check passes to `lab` counts: no stray TRADING_* variable, no .env file."""
    for name in list(os.environ):
        if name.upper().startswith("TRADING_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


def names_field(response: httpx.Response, field: str) -> bool:
    """True when a 422 body points at ``field``, in an error's location or message."""
    try:
        body = response.json()
    except ValueError:
        return False
    detail = body.get("detail") if isinstance(body, dict) else body
    if not isinstance(detail, list):
        return field in str(detail)
    return any(field in map(str, problem.get("loc", ())) or field in str(problem.get("msg", "")) for problem in detail)


def expect_invalid(response: httpx.Response, field: str) -> None:
    """A 422 whose detail says that ``field`` is the problem."""
    what = f"(invalid input, with a detail naming `{field}`)"
    expect_json(response, 422, what)
    assert names_field(response, field), f"{describe(response)}; expected the 422 detail to name `{field}`"


async def all_operations(client: AsyncClient) -> list[dict[str, Any]]:
    return expect_json(await client.get("/operations", params={"limit": 100}), 200)


def as_decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def instant(value: Any) -> datetime | None:
    """The instant a response's datetime string names, or None when it names none (no offset, no datetime)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def utc_instant(value: Any) -> datetime | None:
    """Like ``instant``, but only for a datetime written in UTC ("Z" or "+00:00")."""
    parsed = instant(value)
    return parsed if parsed is not None and parsed.utcoffset() == timedelta(0) else None


# --- 2.1: Decimal quantities and a closed set of sides ---------------------------------------------


@pytest.mark.exercise("2.1", points=1)
async def test_quantity_is_a_decimal(client: AsyncClient) -> None:
    """POST /operations accepts `quantity` as a JSON number (2.5) or a decimal string ("0.125") and returns it
    as a decimal string with the same value ("2.5", "0.125"), so no digit is lost."""
    for sent, expected in ((2.5, "2.5"), ("0.125", "0.125")):
        created = expect_json(await client.post("/operations", json={**NEW_OPERATION, "quantity": sent}), 201)
        got = created.get("quantity")
        assert isinstance(got, str) and as_decimal(got) == Decimal(expected), (
            f"POST /operations with quantity {sent!r} → expected quantity {expected!r} (a decimal string), got {got!r}"
        )
        fetched = expect_json(await client.get(f"/operations/{created['id']}"), 200)
        assert fetched.get("quantity") == got, (
            f"GET /operations/{created['id']} → expected quantity {got!r} as created, got {fetched.get('quantity')!r}"
        )


@pytest.mark.exercise("2.1", points=1)
async def test_quantity_must_be_greater_than_zero(client: AsyncClient) -> None:
    """A quantity that is zero, negative or not a number ("0", "-3", "ten") is refused with 422 naming
    `quantity`, by POST /operations and by PATCH /operations/1, and nothing changes."""
    before = await all_operations(client)
    for bad in ("0", "-3", "ten"):
        expect_invalid(await client.post("/operations", json={**NEW_OPERATION, "quantity": bad}), "quantity")
        expect_invalid(await client.patch("/operations/1", json={"quantity": bad}), "quantity")
    after = await all_operations(client)
    assert after == before, f"after refused writes, expected the operations unchanged, got {after!r}"


@pytest.mark.exercise("2.1", points=1)
async def test_side_is_buy_or_sell(client: AsyncClient) -> None:
    """`side` is "buy" or "sell": POST /operations with side "hold" is 422 naming `side`, and so is
    GET /operations?side=hold; GET /operations?side=sell lists only sells."""
    expect_invalid(await client.post("/operations", json={**NEW_OPERATION, "side": "hold"}), "side")
    expect_invalid(await client.get("/operations", params={"side": "hold"}), "side")
    sells = expect_json(await client.get("/operations", params={"side": "sell"}), 200)
    sides = {operation.get("side") for operation in sells}
    assert sides == {"sell"}, f"GET /operations?side=sell → expected only sells, got sides {sides}"


# --- 2.2: custom validators ------------------------------------------------------------------------


@pytest.mark.exercise("2.2", points=1)
async def test_currency_codes_are_normalised_and_checked(client: AsyncClient) -> None:
    """`currency` is an ISO code the desk knows, in any case on input and upper-case on output:
    "usd" is stored and returned as "USD", "eur" as "EUR"; "XYZ" and "dollars" are 422 naming `currency`."""
    for sent, expected in (("usd", "USD"), ("eur", "EUR")):
        created = expect_json(await client.post("/operations", json={**NEW_OPERATION, "currency": sent}), 201)
        assert created.get("currency") == expected, (
            f"POST /operations with currency {sent!r} → expected currency {expected!r}, got {created.get('currency')!r}"
        )
        fetched = expect_json(await client.get(f"/operations/{created['id']}"), 200)
        assert fetched.get("currency") == expected, (
            f"GET /operations/{created['id']} → expected currency {expected!r}, got {fetched.get('currency')!r}"
        )
    for bad in ("XYZ", "dollars"):
        expect_invalid(await client.post("/operations", json={**NEW_OPERATION, "currency": bad}), "currency")


@pytest.mark.exercise("2.2", points=2)
async def test_settlement_cannot_precede_execution(client: AsyncClient) -> None:
    """`settled_at` may not be earlier than `executed_at`: such a POST /operations is 422 naming `settled_at`,
    and so is a PATCH that sets an earlier `settled_at` on an existing operation (which stays unchanged);
    a later `settled_at` is accepted by both."""
    early = {**NEW_OPERATION, "executed_at": "2024-03-05T16:45:00Z", "settled_at": "2024-03-04T09:00:00Z"}
    expect_invalid(await client.post("/operations", json=early), "settled_at")
    created = expect_json(await client.post("/operations", json={**early, "settled_at": None}), 201)
    path = f"/operations/{created['id']}"
    expect_invalid(await client.patch(path, json={"settled_at": "2024-03-04T09:00:00Z"}), "settled_at")
    unchanged = expect_json(await client.get(path), 200)
    assert unchanged == created, f"GET {path} after a refused PATCH → expected {created!r}, got {unchanged!r}"
    settled = expect_json(await client.patch(path, json={"settled_at": "2024-03-07T09:00:00Z"}), 200)
    assert instant(settled.get("settled_at")) == datetime(2024, 3, 7, 9, tzinfo=UTC), (
        f"PATCH {path} with settled_at '2024-03-07T09:00:00Z' → expected it stored, got {settled!r}"
    )
    valid = {**early, "settled_at": "2024-03-07T09:00:00Z"}
    expect_json(await client.post("/operations", json=valid), 201, "for a settlement after the execution")


# --- 2.3: datetimes with an explicit offset --------------------------------------------------------


@pytest.mark.exercise("2.3", points=1)
async def test_stored_datetimes_carry_a_utc_offset(client: AsyncClient) -> None:
    """Every `executed_at` and `settled_at` in GET /operations and GET /operations/1 ends with an explicit
    UTC offset ("2024-03-01T14:30:00Z" or "+00:00"), including the operations the app starts with."""
    listed = await all_operations(client)
    single = expect_json(await client.get("/operations/1"), 200)
    for operation in [*listed, single]:
        for field in ("executed_at", "settled_at"):
            value = operation.get(field)
            if field == "settled_at" and value is None:
                continue
            assert utc_instant(value), (
                f"GET /operations → operation {operation.get('id')} has {field} {value!r}; expected an explicit"
                " UTC offset such as '2024-03-01T14:30:00Z' or '2024-03-01T14:30:00+00:00'"
            )


@pytest.mark.exercise("2.3", points=1)
async def test_datetimes_are_returned_in_utc(client: AsyncClient) -> None:
    """POST /operations with executed_at "2024-03-05T16:45:00+02:00" and settled_at "2024-03-07T09:00:00-05:00"
    returns the same instants in UTC: "2024-03-05T14:45:00Z" and "2024-03-07T14:00:00Z" (or "+00:00")."""
    sent = {**NEW_OPERATION, "executed_at": "2024-03-05T16:45:00+02:00", "settled_at": "2024-03-07T09:00:00-05:00"}
    expected = {
        "executed_at": datetime(2024, 3, 5, 14, 45, tzinfo=UTC),
        "settled_at": datetime(2024, 3, 7, 14, 0, tzinfo=UTC),
    }
    created = expect_json(await client.post("/operations", json=sent), 201)
    fetched = expect_json(await client.get(f"/operations/{created['id']}"), 200)
    for label, body in (("POST /operations", created), (f"GET /operations/{created['id']}", fetched)):
        for field, moment in expected.items():
            got = body.get(field)
            assert utc_instant(got) == moment, (
                f"{label} after sending {field} {sent[field]!r} → expected"
                f" {moment.isoformat().replace('+00:00', 'Z')!r} (the same instant, in UTC), got {got!r}"
            )


# --- 2.4: settings decide what production publishes --------------------------------------------------


@pytest.mark.exercise("2.4", points=2)
async def test_docs_are_hidden_in_production(lab: LabFactory) -> None:
    """With TRADING_ENVIRONMENT=production, GET /openapi.json, /docs and /redoc are 404 while GET /operations
    and GET /health still work; with TRADING_ENVIRONMENT=local or staging, all three are published (200)."""
    docs = ("/openapi.json", "/docs", "/redoc")
    async with lab(env={"TRADING_ENVIRONMENT": "production"}) as client:
        for path in docs:
            response = await client.get(path)
            assert response.status_code == 404, (
                f"with TRADING_ENVIRONMENT=production, GET {path} → expected 404, got {response.status_code}"
            )
        expect_json(await client.get("/operations"), 200, "in production too")
        health = expect_json(await client.get("/health"), 200)
        assert health.get("environment") == "production", (
            f"with TRADING_ENVIRONMENT=production, GET /health → expected environment 'production', got {health!r}"
        )
    for environment in ("local", "staging"):
        async with lab(env={"TRADING_ENVIRONMENT": environment}) as client:
            for path in docs:
                response = await client.get(path)
                assert response.status_code == 200, (
                    f"with TRADING_ENVIRONMENT={environment}, GET {path} → expected 200, got {response.status_code}"
                )
