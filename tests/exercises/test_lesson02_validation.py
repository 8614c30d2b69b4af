"""Graded checks for lesson 02: Pydantic validation, response models and settings."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from course.pytest_plugin import LabFactory

from .expect import describe, expect_json, isolated_settings

NEW_OPERATION = {
    "ticker": "MSFT",
    "instrument_type": "share",
    "side": "buy",
    "quantity": "3",
    "price": "410.10",
    "currency": "USD",
    "executed_at": "2024-03-05T16:45:00Z",
}
# The operations every app starts with: (executed_at, settled_at) in UTC. The store keeps them without an offset.
SEED_TIMES = {
    1: ("2024-03-01T14:30:00Z", "2024-03-04T14:30:00Z"),
    2: ("2024-03-04T09:15:00Z", None),
    3: ("2024-03-05T08:00:00Z", "2024-03-07T08:00:00Z"),
    4: ("2024-03-06T16:45:00Z", None),
}
UNSETTLED_SEED_ID = 2
SEED_SELL_IDS = {2, 4}
# The codes the desk settles in (CURRENCIES in schemas.py).
KNOWN_CURRENCIES = ("AUD", "CAD", "CHF", "CNY", "EUR", "GBP", "HKD", "JPY", "SEK", "USD")
NAIVE_IS_UTC = (
    "a time stored or sent without an offset is UTC by this app's convention; `astimezone()` alone would read it"
    " as the server's local time"
)
NAIVE_VS_AWARE = (
    f"operation {UNSETTLED_SEED_ID} is stored with times that have no offset (UTC, by this app's convention), and"
    " Python refuses to compare such a time with one that has an offset: compare `as_utc(...)` of both"
)


hermetic_settings = isolated_settings("TRADING_")


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


def if_crashed(response: httpx.Response, why: str) -> str:
    """``why`` as the end of a failure message, when the app answered 5xx."""
    return f"; {why}" if why and response.status_code >= 500 else ""


def expect_invalid(response: httpx.Response, field: str, why: str = "") -> None:
    """A 422 whose detail says that ``field`` is the problem; ``why`` explains a 5xx instead."""
    expect_json(response, 422, f"(invalid input, with a detail naming `{field}`){if_crashed(response, why)}")
    assert names_field(response, field), f"{describe(response)}; expected the 422 detail to name `{field}`"


async def all_operations(client: AsyncClient) -> list[dict[str, Any]]:
    return expect_json(await client.get("/operations", params={"limit": 100}), 200)


def as_decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def moment(text: str) -> datetime:
    """The instant a check's own ISO text names ("Z" or an offset)."""
    return datetime.fromisoformat(text)


def instant(value: Any) -> datetime | None:
    """The instant a response's datetime string names, or None when it names none (no offset, no datetime)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def in_utc(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def expect_utc(got: Any, expected: datetime, where: str, why: str = "") -> None:
    """``got`` names the instant ``expected``, written in UTC ("Z" or "+00:00")."""
    wanted = f"{where} → expected {in_utc(expected)!r} (or '+00:00')"
    parsed = instant(got)
    assert parsed is not None, f"{wanted}, got {got!r}, which has no offset: which zone is that in?"
    assert parsed == expected, f"{wanted}, got {got!r}, another instant" + (f"; {why}" if why else "")
    assert parsed.utcoffset() == timedelta(0), f"{wanted}, got {got!r}: the right instant, but not written in UTC"


# --- 2.1: Decimal quantities and a closed set of sides ---------------------------------------------


@pytest.mark.exercise("2.1", points=1)
async def test_quantity_is_a_decimal(client: AsyncClient) -> None:
    """`quantity` accepts any decimal greater than zero, as a JSON number (2.5) or a decimal string ("0.125",
    "0.0001"), and is returned as a decimal string with the same value ("2.5"), so no digit is lost:
    by POST /operations, and by PATCH /operations/1 with `{"quantity": 7.5}`."""
    for sent, expected in ((2.5, "2.5"), ("0.125", "0.125"), ("0.0001", "0.0001")):
        response = await client.post("/operations", json={**NEW_OPERATION, "quantity": sent})
        created = expect_json(response, 201, f"(a quantity of {sent!r} is valid)")
        got = created.get("quantity")
        assert isinstance(got, str) and as_decimal(got) == Decimal(expected), (
            f"POST /operations with quantity {sent!r} → expected quantity {expected!r} (a decimal string), got {got!r}"
        )
        fetched = expect_json(await client.get(f"/operations/{created['id']}"), 200)
        assert fetched.get("quantity") == got, (
            f"GET /operations/{created['id']} → expected quantity {got!r} as created, got {fetched.get('quantity')!r}"
        )
    patched = expect_json(await client.patch("/operations/1", json={"quantity": 7.5}), 200, "(7.5 is a valid quantity)")
    got = patched.get("quantity")
    assert isinstance(got, str) and as_decimal(got) == Decimal("7.5"), (
        f"PATCH /operations/1 with quantity 7.5 → expected quantity '7.5' (a decimal string), got {got!r}"
    )
    fetched = expect_json(await client.get("/operations/1"), 200)
    assert fetched.get("quantity") == got, (
        f"GET /operations/1 after the PATCH → expected quantity {got!r}, got {fetched!r}"
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
    """`side` is exactly "buy" or "sell": POST /operations accepts both, and any other side ("hold", "BUY",
    "buyer") is 422 naming `side`, in POST /operations and in GET /operations?side=...;
    GET /operations?side=sell lists only sells, and all of them."""
    for bad in ("hold", "BUY", "buyer"):
        expect_invalid(await client.get("/operations", params={"side": bad}), "side")
    sells = expect_json(await client.get("/operations", params={"side": "sell"}), 200)
    sides = {operation.get("side") for operation in sells}
    assert sides == {"sell"}, f"GET /operations?side=sell → expected only sells, got sides {sides}"
    found = {operation.get("id") for operation in sells}
    assert found == SEED_SELL_IDS, f"GET /operations?side=sell → expected operations {SEED_SELL_IDS}, got {found}"
    for side in ("buy", "sell"):
        created = expect_json(await client.post("/operations", json={**NEW_OPERATION, "side": side}), 201)
        assert created.get("side") == side, f"POST /operations with side {side!r} → expected it stored, got {created!r}"
    for bad in ("hold", "BUY", "buyer"):
        expect_invalid(await client.post("/operations", json={**NEW_OPERATION, "side": bad}), "side")


# --- 2.2: custom validators ------------------------------------------------------------------------


@pytest.mark.exercise("2.2", points=1)
async def test_currency_codes_are_normalised_and_checked(client: AsyncClient) -> None:
    """`currency` is one of the codes the desk knows (AUD, CAD, CHF, CNY, EUR, GBP, HKD, JPY, SEK, USD), in any
    case on input and upper-case on output: "usd" and "Gbp" are stored and returned as "USD" and "GBP";
    "XYZ", "xyz" and "dollars" are 422 naming `currency`."""
    sent_codes = [code.lower() for code in KNOWN_CURRENCIES] + ["Gbp", "USD"]
    for sent in sent_codes:
        expected = sent.upper()
        response = await client.post("/operations", json={**NEW_OPERATION, "currency": sent})
        created = expect_json(response, 201, f"({sent!r} is {expected}, a code the desk knows)")
        assert created.get("currency") == expected, (
            f"POST /operations with currency {sent!r} → expected currency {expected!r}, got {created.get('currency')!r}"
        )
        fetched = expect_json(await client.get(f"/operations/{created['id']}"), 200)
        assert fetched.get("currency") == expected, (
            f"GET /operations/{created['id']} → expected currency {expected!r}, got {fetched.get('currency')!r}"
        )
    for bad in ("XYZ", "xyz", "dollars"):
        expect_invalid(await client.post("/operations", json={**NEW_OPERATION, "currency": bad}), "currency")


@pytest.mark.exercise("2.2", points=1)
async def test_new_operation_cannot_settle_before_execution(client: AsyncClient) -> None:
    """POST /operations with a `settled_at` earlier than `executed_at` is 422 naming `settled_at`. Times compare
    as instants, whatever their offsets: "2024-03-05T17:00:00+02:00" is earlier than "2024-03-05T16:45:00Z".
    A `settled_at` equal to `executed_at`, or later, is accepted (201)."""
    executed = NEW_OPERATION["executed_at"]  # 2024-03-05T16:45:00Z
    for settled in ("2024-03-04T09:00:00Z", "2024-03-05T17:00:00+02:00"):
        response = await client.post("/operations", json={**NEW_OPERATION, "settled_at": settled})
        expect_invalid(response, "settled_at")
    accepted = (
        (executed, executed, "settling at the very instant of the execution"),
        (executed, "2024-03-07T09:00:00Z", "a settlement after the execution"),
        ("2024-03-05T16:45:00+02:00", "2024-03-05T15:00:00Z", "15:00Z is after 16:45+02:00, which is 14:45Z"),
    )
    for executed_at, settled_at, why in accepted:
        sent = {**NEW_OPERATION, "executed_at": executed_at, "settled_at": settled_at}
        created = expect_json(await client.post("/operations", json=sent), 201, f"for {why}")
        assert instant(created.get("settled_at")) == moment(settled_at), (
            f"POST /operations with settled_at {settled_at!r} → expected it stored, got {created!r}"
        )


@pytest.mark.exercise("2.2", points=1)
async def test_patch_cannot_settle_before_execution(client: AsyncClient) -> None:
    """PATCH /operations/{id} with a `settled_at` earlier than the operation's `executed_at` is 422 naming
    `settled_at`, and the operation stays unchanged; an equal or later one is stored (200). This holds for the
    operations the app starts with too: operation 2 was executed at 2024-03-04T09:15:00Z."""
    path = f"/operations/{UNSETTLED_SEED_ID}"
    before = expect_json(await client.get(path), 200)
    expect_invalid(await client.patch(path, json={"settled_at": "2024-03-04T09:00:00Z"}), "settled_at", NAIVE_VS_AWARE)
    unchanged = expect_json(await client.get(path), 200)
    assert unchanged == before, f"GET {path} after a refused PATCH → expected {before!r}, got {unchanged!r}"
    same_instant = "2024-03-04T09:15:00Z"
    response = await client.patch(path, json={"settled_at": same_instant})
    what = f"(settling at the instant of the execution is allowed){if_crashed(response, NAIVE_VS_AWARE)}"
    settled = expect_json(response, 200, what)
    assert instant(settled.get("settled_at")) == moment(same_instant), (
        f"PATCH {path} with settled_at {same_instant!r} → expected it stored, got {settled!r}"
    )

    created = expect_json(await client.post("/operations", json=NEW_OPERATION), 201)  # executed 2024-03-05T16:45Z
    path = f"/operations/{created['id']}"
    expect_invalid(await client.patch(path, json={"settled_at": "2024-03-05T18:00:00+02:00"}), "settled_at")
    unchanged = expect_json(await client.get(path), 200)
    assert unchanged == created, f"GET {path} after a refused PATCH → expected {created!r}, got {unchanged!r}"
    later = "2024-03-07T09:00:00Z"
    settled = expect_json(await client.patch(path, json={"settled_at": later}), 200, "for a later settlement")
    assert instant(settled.get("settled_at")) == moment(later), (
        f"PATCH {path} with settled_at {later!r} → expected it stored, got {settled!r}"
    )


# --- 2.3: datetimes in UTC, with an explicit offset ------------------------------------------------


@pytest.mark.exercise("2.3", points=1)
async def test_times_without_an_offset_are_utc(client: AsyncClient) -> None:
    """Times without an offset are UTC. GET /operations and GET /operations/{id} return the operations the app
    starts with at their UTC instants, with an explicit offset: operation 1 was executed at
    "2024-03-01T14:30:00Z" (or "+00:00"). POST /operations with executed_at "2024-03-05T16:45:00" (no offset)
    returns "2024-03-05T16:45:00Z"."""
    listed = {operation.get("id"): operation for operation in await all_operations(client)}
    for operation_id, times in SEED_TIMES.items():
        single = expect_json(await client.get(f"/operations/{operation_id}"), 200)
        for label, body in (
            ("GET /operations", listed.get(operation_id, {})),
            (f"GET /operations/{operation_id}", single),
        ):
            for field, expected in zip(("executed_at", "settled_at"), times, strict=True):
                where = f"{label}: operation {operation_id} {field}"
                if expected is None:
                    assert body.get(field) is None, f"{where} → expected null (not settled), got {body.get(field)!r}"
                else:
                    expect_utc(body.get(field), moment(expected), where, NAIVE_IS_UTC)
    sent = {**NEW_OPERATION, "executed_at": "2024-03-05T16:45:00", "settled_at": "2024-03-07T09:00:00"}
    created = expect_json(await client.post("/operations", json=sent), 201)
    fetched = expect_json(await client.get(f"/operations/{created['id']}"), 200)
    for label, body in (("POST /operations", created), (f"GET /operations/{created['id']}", fetched)):
        for field in ("executed_at", "settled_at"):
            where = f"{label} after sending {field} {sent[field]!r}"
            expect_utc(body.get(field), moment(sent[field] + "Z"), where, NAIVE_IS_UTC)


@pytest.mark.exercise("2.3", points=1)
async def test_times_with_an_offset_are_returned_in_utc(client: AsyncClient) -> None:
    """Times sent with another offset come back as the same instants in UTC: POST /operations with executed_at
    "2024-03-05T16:45:00+02:00" and settled_at "2024-03-07T09:00:00-05:00" returns "2024-03-05T14:45:00Z" and
    "2024-03-07T14:00:00Z" (or "+00:00"); PATCH /operations/2 with settled_at "2024-03-06T11:15:00+02:00"
    returns "2024-03-06T09:15:00Z"."""
    sent = {**NEW_OPERATION, "executed_at": "2024-03-05T16:45:00+02:00", "settled_at": "2024-03-07T09:00:00-05:00"}
    created = expect_json(await client.post("/operations", json=sent), 201)
    fetched = expect_json(await client.get(f"/operations/{created['id']}"), 200)
    for label, body in (("POST /operations", created), (f"GET /operations/{created['id']}", fetched)):
        for field in ("executed_at", "settled_at"):
            expect_utc(body.get(field), moment(sent[field]), f"{label} after sending {field} {sent[field]!r}")
    path = f"/operations/{UNSETTLED_SEED_ID}"
    settled_at = "2024-03-06T11:15:00+02:00"
    patched = expect_json(await client.patch(path, json={"settled_at": settled_at}), 200)
    fetched = expect_json(await client.get(path), 200)
    for label, body in ((f"PATCH {path}", patched), (f"GET {path}", fetched)):
        expect_utc(body.get("settled_at"), moment(settled_at), f"{label} after sending settled_at {settled_at!r}")


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
