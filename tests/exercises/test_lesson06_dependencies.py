"""Graded checks for lesson 06: a shop whose orders are guarded, metered and mailed by dependencies.

Every check talks to the app over HTTP as one of the three customers it starts with, named in
the ``X-Customer-Id`` header. The mail checks give the app a directory of the course's as its
outbox (``SHOP_OUTBOX_DIR``) and read the receipts it writes there, from outside the app.

The app starts with these orders (ids fixed): 1 Ana open (1800 cents), 2 Ana paid (1250),
3 Ben open (4500, more than Ben's balance of 2000), 4 Ben cancelled (450), 5 Ben open (900),
6 Chen open (450, Chen's balance is 0).
"""

import json
import re
import time
from typing import Any

import anyio
import httpx
import pytest
from httpx import AsyncClient

from course.harness import SharedDirectory
from course.pytest_plugin import LabFactory

from .expect import describe, expect_json, expect_status, isolated_settings

ANA = {"X-Customer-Id": "1"}
BEN = {"X-Customer-Id": "2"}
CHEN = {"X-Customer-Id": "3"}
MAX_ID = 2**31 - 1
# A body that breaks the schema: no such product, and no quantity of 0.
INVALID_LINE = {"product": "caviar", "quantity": 0}
TEA = {"product": "tea", "quantity": 1}
RECEIPT_NAME = re.compile(r"^receipt-order-(\d+)\.json$")
MAIL_WAIT = 1.5  # seconds a receipt may take to appear after the response (it is written after the response)

hermetic_settings = isolated_settings("SHOP_")


def expect_detail(response: httpx.Response, status: int, what: str, detail: str | None = None) -> str:
    """The status, and a body ``{"detail": "<text>"}`` (that very text, when ``detail`` is given)."""
    expected = f'{status} {{"detail": "{detail}"}}' if detail else f'{status} with a body {{"detail": "<text>"}}'
    assert response.status_code == status, f"{describe(response)}; expected {expected} {what}"
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{describe(response)}; expected {expected} {what}, as JSON") from None
    text = body.get("detail") if isinstance(body, dict) else None
    assert isinstance(text, str) and text.strip(), f"{describe(response)}; expected {expected} {what}"
    if detail is not None:
        assert text == detail, f"{describe(response)}; expected {expected} {what}, this very detail"
    return text


async def order_of(client: AsyncClient, order_id: int, owner: dict[str, str]) -> dict[str, Any]:
    """The order as its owner sees it."""
    response = await client.get(f"/orders/{order_id}", headers=owner)
    order = expect_json(response, 200, f"(the owner reads order {order_id})")
    assert isinstance(order, dict), f"{describe(response)}; expected the order as a JSON object"
    return order


def state(order: dict[str, Any]) -> tuple[Any, Any, Any]:
    """What a refused request must leave as it was: status, total and lines."""
    return order.get("status"), order.get("total_cents"), order.get("lines")


async def me(client: AsyncClient, customer: dict[str, str], what: str = "") -> dict[str, Any]:
    response = await client.get("/customers/me", headers=customer)
    body = expect_json(response, 200, what)
    assert isinstance(body, dict) and isinstance(body.get("calls"), int), (
        f"{describe(response)}; expected the customer with a whole number of `calls`"
    )
    return body


# --- 6.1: an order the caller may touch: 404, then 403, before the route runs ------------------------


@pytest.mark.exercise("6.1", points=1)
async def test_an_unknown_order_is_404(client: AsyncClient) -> None:
    """An order id that does not exist (999, and 2147483647, the largest id) → 404 {"detail": "Order <id> not
    found"} from GET /orders/{id}, POST /orders/{id}/pay, POST /orders/{id}/cancel, POST /orders/{id}/lines and
    GET /orders/{id}/receipt, for a known customer; never a 500."""
    for order_id in (999, MAX_ID):
        for method, path, body in (
            ("GET", "", None),
            ("POST", "/pay", None),
            ("POST", "/cancel", None),
            ("POST", "/lines", TEA),
            ("GET", "/receipt", None),
        ):
            response = await client.request(method, f"/orders/{order_id}{path}", headers=ANA, json=body)
            expect_detail(response, 404, f"(there is no order {order_id})", f"Order {order_id} not found")


@pytest.mark.exercise("6.1", points=2)
async def test_another_customers_order_is_403_and_stays_as_it_was(client: AsyncClient) -> None:
    """Order 3 is Ben's. As Ana: GET /orders/3, POST /orders/3/pay, POST /orders/3/cancel and POST /orders/3/lines
    (a valid line) → 403 with a JSON `detail`, and order 3 stays as it was (status, total, lines). As Ben, GET
    /orders/3 → 200 with order 3; as Ana, GET /orders/1 (hers) → 200 with order 1."""
    before = await order_of(client, 3, BEN)
    assert before.get("id") == 3 and before.get("customer_id") == 2, f"GET /orders/3 as Ben → got {before!r}"
    for method, path, body in (
        ("GET", "", None),
        ("POST", "/pay", None),
        ("POST", "/cancel", None),
        ("POST", "/lines", TEA),
    ):
        response = await client.request(method, f"/orders/3{path}", headers=ANA, json=body)
        expect_detail(response, 403, "(order 3 is Ben's, and Ana is asking)")
    after = await order_of(client, 3, BEN)
    assert state(after) == state(before), (
        f"after Ana's refused requests on order 3, GET /orders/3 as Ben → expected it as it was, {state(before)!r}"
        f" (status, total, lines); got {state(after)!r}: the route ran before the ownership check refused"
    )
    own = await order_of(client, 1, ANA)
    assert own.get("id") == 1 and own.get("customer_id") == 1, f"GET /orders/1 as Ana → expected order 1, got {own!r}"


@pytest.mark.exercise("6.1", points=1)
async def test_the_order_guards_answer_before_the_body_is_read(client: AsyncClient) -> None:
    """POST /orders/{id}/lines with a body that breaks the schema ({"product": "caviar", "quantity": 0}) → 404 for
    an order that does not exist and 403 for another customer's order (order 3, as Ana), not 422: whether the
    caller may touch the order is settled before the body is looked at. For her own open order 1, Ana gets 422."""
    response = await client.post("/orders/999/lines", headers=ANA, json=INVALID_LINE)
    expect_detail(response, 404, "(no order 999: that comes before what is wrong with the body)")
    response = await client.post("/orders/3/lines", headers=ANA, json=INVALID_LINE)
    expect_detail(response, 403, "(order 3 is Ben's: that comes before what is wrong with the body)")
    response = await client.post("/orders/1/lines", headers=ANA, json=INVALID_LINE)
    expect_status(response, 422, "(Ana's own open order: now the body is checked, and it is invalid)")


# --- 6.2: one call per request, within the plan's quota ---------------------------------------------

THREE_USES = "(it needs the customer up to three times: the router, the order's owner check and the route)"


@pytest.mark.exercise("6.2", points=2)
async def test_each_request_counts_one_call(client: AsyncClient) -> None:
    """Each successful request counts one call of its customer, however many dependencies need the customer:
    on a fresh app Ana's GET /customers/me answers `calls` 1; after GET /orders, GET /orders/1 and POST
    /orders/1/pay it answers 5. Ben's calls are his own: his first GET /customers/me answers 1."""
    first = await me(client, ANA, "(Ana's first call)")
    assert first["calls"] == 1, (
        f"GET /customers/me as Ana, her first call on a fresh app → expected calls 1 (this call counts), got"
        f" {first['calls']}"
    )
    requests = [("GET", "/orders"), ("GET", "/orders/1"), ("POST", "/orders/1/pay")]
    for method, path in requests:
        response = await client.request(method, path, headers=ANA)
        expect_status(response, 200, THREE_USES if path != "/orders" else "")
    now = await me(client, ANA)
    made = ", ".join(f"{method} {path}" for method, path in requests)
    assert now["calls"] == len(requests) + 2, (
        f"GET /customers/me as Ana after GET /customers/me, {made} → expected calls {len(requests) + 2}, one per"
        f" request, got {now['calls']}. More means a request was charged more than once: the customer is needed up"
        " to three times in a request, and FastAPI runs a dependency once per request unless told otherwise"
        " (use_cache=False)."
    )
    ben = await me(client, BEN, "(Ben's first call)")
    assert ben["calls"] == 1, f"GET /customers/me as Ben, his first call → expected calls 1, got {ben['calls']}"


@pytest.mark.exercise("6.2", points=1)
async def test_refused_requests_are_not_charged(client: AsyncClient) -> None:
    """A refused request costs nothing: after Ben's GET /customers/me (1 call), POST /orders with an invalid body
    (422) and POST /orders/3/pay beyond his balance (409), his GET /customers/me answers `calls` 2."""
    await me(client, BEN)
    response = await client.post("/orders", headers=BEN, json={"lines": [INVALID_LINE]})
    expect_status(response, 422, "(no such product)")
    response = await client.post("/orders/3/pay", headers=BEN, json=None)
    expect_detail(response, 409, "(order 3 costs 4500 cents; Ben has 2000)")
    after = await me(client, BEN)
    assert after["calls"] == 2, (
        "GET /customers/me as Ben after a 422 and a 409 → expected calls 2 (his two GET /customers/me), got"
        f" {after['calls']}: a refused request must not be charged. The session rolls back what a failed request"
        " changed, unless something committed it earlier."
    )


@pytest.mark.exercise("6.2", points=2)
async def test_the_quota_is_enforced_per_customer(lab: LabFactory) -> None:
    """With SHOP_CALL_QUOTA=3, Ana's GET /customers/me, POST /orders/1/pay and GET /orders/1 → 200 (the third
    call is the last her plan includes); her next GET /orders and GET /customers/me → 429 with a JSON `detail`.
    Ben's plan is his own: his GET /customers/me → 200."""
    async with lab(env={"SHOP_CALL_QUOTA": "3"}) as client:
        done = []
        for method, path in (("GET", "/customers/me"), ("POST", "/orders/1/pay"), ("GET", "/orders/1")):
            response = await client.request(method, path, headers=ANA)
            expect_status(
                response,
                200,
                f"(Ana's call {len(done) + 1} of the 3 her plan includes, after {', '.join(done) or 'none'})",
            )
            done.append(f"{method} {path}")
        for path in ("/orders", "/customers/me"):
            response = await client.get(path, headers=ANA)
            expect_detail(response, 429, f"(Ana has used her 3 calls: {', '.join(done)})")
        ben = await me(client, BEN, "(Ben's first call: Ana's quota is not his)")
        assert ben["calls"] == 1, f"GET /customers/me as Ben → expected calls 1, got {ben['calls']}"


# --- 6.3: a receipt, mailed once the payment is committed -------------------------------------------


def receipts_in(directory: SharedDirectory) -> dict[int, Any]:
    """Order id → the receipt in the outbox (a file that is not JSON shows as its text)."""
    found: dict[int, Any] = {}
    for name, data in directory.files().items():
        if match := RECEIPT_NAME.match(name):
            try:
                found[int(match[1])] = json.loads(data)
            except ValueError:
                found[int(match[1])] = data.decode(errors="replace")
    return found


async def wait_for_receipt(directory: SharedDirectory, order_id: int) -> dict[int, Any]:
    """The outbox once it holds order_id's receipt, or after MAIL_WAIT seconds (mail goes after the response)."""
    deadline = time.monotonic() + MAIL_WAIT
    while True:
        found = receipts_in(directory)
        if order_id in found or time.monotonic() > deadline:
            return found
        await anyio.sleep(0.02)


def expected_receipt(order_id: int, to: str, total: int) -> dict[str, Any]:
    return {"to": to, "order_id": order_id, "status": "paid", "total_cents": total}


def expect_receipt(found: dict[int, Any], order_id: int, to: str, total: int, after: str) -> None:
    wanted = expected_receipt(order_id, to, total)
    receipt = found.get(order_id)
    assert receipt is not None, (
        f"{after} → expected receipt-order-{order_id}.json in the outbox (SHOP_OUTBOX_DIR) within {MAIL_WAIT:g} s,"
        f" found {sorted(f'receipt-order-{n}.json' for n in found) or 'no receipt'}"
    )
    got = {key: receipt.get(key) for key in wanted} if isinstance(receipt, dict) else receipt
    hint = ""
    if isinstance(receipt, dict) and receipt.get("status") == "open":
        hint = (
            ' It says "open": the receipt is rendered from the database when it is delivered, so it was delivered'
            ' before the payment was committed. Which scope exits after the session\'s (scope="function")?'
        )
    assert got == wanted, f"{after} → expected receipt-order-{order_id}.json to hold {wanted}, got {got}.{hint}"


@pytest.mark.exercise("6.3", points=2)
async def test_a_paid_order_is_mailed_its_receipt(lab: LabFactory, shared_directory: SharedDirectory) -> None:
    """POST /orders/1/pay as Ana → 200, and the outbox (the directory in SHOP_OUTBOX_DIR) then holds
    receipt-order-1.json with "to": "ana@example.com", "order_id": 1, "status": "paid" and "total_cents": 1800,
    and no other receipt. The receipt is rendered from the database when it is delivered: it says "paid" only if
    the payment was committed first. Then Ben's POST /orders/5/pay → receipt-order-5.json for ben@example.com, 900."""
    async with lab(env={"SHOP_OUTBOX_DIR": shared_directory.path}) as client:
        response = await client.post("/orders/1/pay", headers=ANA)
        expect_status(response, 200, "(Ana pays her open order 1: 1800 cents of her 10000)")
        found = await wait_for_receipt(shared_directory, 1)
        expect_receipt(found, 1, "ana@example.com", 1800, "POST /orders/1/pay as Ana")
        assert set(found) == {1}, (
            f"POST /orders/1/pay → expected only receipt-order-1.json, found orders {sorted(found)}"
        )
        response = await client.post("/orders/5/pay", headers=BEN)
        expect_status(response, 200, "(Ben pays his open order 5: 900 cents of his 2000)")
        found = await wait_for_receipt(shared_directory, 5)
        expect_receipt(found, 5, "ben@example.com", 900, "POST /orders/5/pay as Ben")


@pytest.mark.exercise("6.3", points=2)
async def test_a_refused_payment_mails_nothing(lab: LabFactory, shared_directory: SharedDirectory) -> None:
    """POST /orders/3/pay as Ben (4500 cents, beyond his balance of 2000) and POST /orders/6/pay as Chen (balance 0)
    → 409, and no receipt for order 3 or 6 is ever written; Ben's next POST /orders/5/pay → 200 and its receipt,
    receipt-order-5.json, arrives."""
    async with lab(env={"SHOP_OUTBOX_DIR": shared_directory.path}) as client:
        response = await client.post("/orders/3/pay", headers=BEN)
        expect_detail(response, 409, "(order 3 costs 4500 cents; Ben has 2000)")
        response = await client.post("/orders/6/pay", headers=CHEN)
        expect_detail(response, 409, "(order 6 costs 450 cents; Chen has 0)")
        response = await client.post("/orders/5/pay", headers=BEN)
        expect_status(response, 200, "(Ben pays his open order 5: 900 cents of his 2000)")
        # Mail goes out in order: once order 5's receipt is there, any for the refused payments would be too.
        found = await wait_for_receipt(shared_directory, 5)
        refused = sorted({3, 6} & set(found))
        assert not refused, (
            f"POST /orders/3/pay and /orders/6/pay were refused with 409, yet the outbox holds receipts for orders"
            f" {refused}: {[found[n] for n in refused]}. A request that failed must send nothing: the exception comes"
            " out of the yield of the outbox dependency."
        )
        expect_receipt(found, 5, "ben@example.com", 900, "POST /orders/5/pay as Ben, after the two refused payments")


# --- 6.4: guards configured per route --------------------------------------------------------------


@pytest.mark.exercise("6.4", points=2)
async def test_only_open_orders_can_be_paid_cancelled_or_changed(client: AsyncClient) -> None:
    """POST /orders/{id}/pay, /cancel and /lines (a valid line) on an order that is not open → 409 with a JSON
    `detail`, and the order and the balance stay as they were: Ana's paid order 2, Ben's cancelled order 4. On open
    orders they work: Ana's POST /orders/1/lines → 200, Ben's POST /orders/5/cancel → 200 with "status":
    "cancelled", after which paying order 5 → 409."""
    balance = (await me(client, ANA))["balance_cents"]
    for order_id, owner, name, status in ((2, ANA, "Ana", "paid"), (4, BEN, "Ben", "cancelled")):
        before = await order_of(client, order_id, owner)
        for path, body in (("/pay", None), ("/cancel", None), ("/lines", TEA)):
            response = await client.post(f"/orders/{order_id}{path}", headers=owner, json=body)
            expect_detail(response, 409, f"(order {order_id} is {status}: only open orders allow this)")
        after = await order_of(client, order_id, owner)
        assert state(after) == state(before), (
            f"after {name}'s refused requests on {status} order {order_id} → expected it as it was, {state(before)!r};"
            f" got {state(after)!r}"
        )
    left = (await me(client, ANA))["balance_cents"]
    assert left == balance, f"Ana's balance after paying her paid order 2 was refused → expected {balance}, got {left}"
    response = await client.post("/orders/1/lines", headers=ANA, json=TEA)
    added = expect_json(response, 200, "(order 1 is open: a line may be added)")
    assert isinstance(added, dict) and added.get("total_cents") == 1800 + 450, (
        f"{describe(response)}; expected order 1 with the tea added, total_cents 2250"
    )
    response = await client.post("/orders/5/cancel", headers=BEN)
    cancelled = expect_json(response, 200, "(order 5 is open: it may be cancelled)")
    assert isinstance(cancelled, dict) and cancelled.get("status") == "cancelled", (
        f'{describe(response)}; expected order 5 with "status": "cancelled"'
    )
    response = await client.post("/orders/5/pay", headers=BEN)
    expect_detail(response, 409, "(order 5 was just cancelled)")


@pytest.mark.exercise("6.4", points=1)
async def test_a_receipt_needs_a_paid_order(client: AsyncClient) -> None:
    """GET /orders/{id}/receipt → 409 with a JSON `detail` for an order that is not paid (Ana's open order 1, Ben's
    cancelled order 4), and 200 with "status": "paid" for Ana's paid order 2; once Ana pays order 1, its receipt
    → 200."""
    for order_id, owner, status in ((1, ANA, "open"), (4, BEN, "cancelled")):
        response = await client.get(f"/orders/{order_id}/receipt", headers=owner)
        expect_detail(response, 409, f"(order {order_id} is {status}: only a paid order has a receipt)")
    response = await client.get("/orders/2/receipt", headers=ANA)
    expect_paid_receipt(response, "(order 2 is paid)")
    expect_status(await client.post("/orders/1/pay", headers=ANA), 200, "(order 1 is open: Ana pays it)")
    response = await client.get("/orders/1/receipt", headers=ANA)
    expect_paid_receipt(response, "(Ana has just paid order 1)")


def expect_paid_receipt(response: httpx.Response, what: str) -> None:
    receipt = expect_json(response, 200, what)
    assert isinstance(receipt, dict) and receipt.get("status") == "paid", (
        f'{describe(response)}; expected the receipt, with "status": "paid"'
    )


@pytest.mark.exercise("6.4", points=1)
async def test_the_status_guard_answers_before_the_body_is_read(client: AsyncClient) -> None:
    """POST /orders/2/lines (Ana's paid order) with a body that breaks the schema → 409, not 422: the order's status
    is checked before the body is looked at."""
    response = await client.post("/orders/2/lines", headers=ANA, json=INVALID_LINE)
    expect_detail(response, 409, "(order 2 is paid: that comes before what is wrong with the body)")
