"""Graded checks for lesson 01: first endpoints.

The checks rely on the seed the notebook describes: users 1–3, and trades 1–4, where trades 1 and 2
are user 1's BTC trades, and trades 3 and 4 are user 3's ETH trades, trade 4 stored as "eth".
"""

from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from .expect import describe, expect_json, isolated_settings

# Lesson 01's app has no settings to clear; like every lab's, it runs in an empty directory, as under the grader.
hermetic_settings = isolated_settings("LESSON01_")

NEW_TRADE = {"user_id": 2, "currency": "ETH", "side": "buy", "price": 3000.5, "amount": 1.5}
SEED_TRADE_IDS = (1, 2, 3, 4)
BTC_TRADE_IDS = (1, 2)
ETH_TRADE_IDS = (3, 4)  # trade 4 is stored as "eth"
# Far beyond the last user, one past it, and below the first.
MISSING_USER_IDS = (999, 4, 0)
FIRST_ID = 1


async def all_trades(client: AsyncClient) -> list[dict[str, Any]]:
    """Every trade, through ``GET /trades`` (fewer than 100 exist)."""
    return expect_json(await client.get("/trades", params={"limit": 100}))


async def trades_by_id(client: AsyncClient, trade_ids: tuple[int, ...]) -> list[dict[str, Any]]:
    """The trades with these ids, each from ``GET /trades/{id}``: what a listing of them must hold."""
    return [expect_json(await client.get(f"/trades/{trade_id}")) for trade_id in trade_ids]


def ids(trades: Any) -> Any:
    """The ids of a list of trades, for messages; anything else as it came."""
    if isinstance(trades, list):
        return [trade.get("id") if isinstance(trade, dict) else trade for trade in trades]
    return trades


def in_id_order(trades: Any) -> Any:
    """A list of trades sorted by id, for checks where the order is free; anything else as it came."""
    if isinstance(trades, list) and all(
        isinstance(trade, dict) and isinstance(trade.get("id"), int) for trade in trades
    ):
        return sorted(trades, key=lambda trade: trade["id"])
    return trades


def expect_missing_user(response: httpx.Response, user_id: int) -> None:
    """404 with a detail naming the id; an id below the first may be refused with 422 instead."""
    if user_id < FIRST_ID and response.status_code == 422:
        return
    also = " (or 422: ids start at 1)" if user_id < FIRST_ID else ""
    if response.status_code == 500:
        also += (
            "; if the app raised ResponseValidationError, the route returned None where its return type"
            " promises data: raise a 404 instead"
        )
    body = expect_json(response, 404, f"with a detail naming {user_id}{also}")
    detail = body.get("detail", "") if isinstance(body, dict) else ""
    assert str(user_id) in str(detail), f"{describe(response)}; expected a `detail` that names {user_id}"


def answered_by_a_path_parameter(response: httpx.Response) -> bool:
    """A 422 that complains about a path parameter: a route with ``{trade_id}`` caught the request."""
    if response.status_code != 422:
        return False
    try:
        errors = response.json().get("detail", [])
    except (ValueError, AttributeError):
        return False
    return isinstance(errors, list) and any(isinstance(e, dict) and e.get("loc", [None])[0] == "path" for e in errors)


async def mine_route_hint(client: AsyncClient, response: httpx.Response) -> str:
    """Why ``GET /trades/{trade_id}`` answered a request meant for ``GET /trades/mine``, judged from /openapi.json."""
    if not answered_by_a_path_parameter(response):
        return ""
    schema = await client.get("/openapi.json")
    operations = schema.json().get("paths", {}) if schema.status_code == 200 else {}
    paths = list(operations)
    if "get" not in operations.get("/trades/mine", {}):
        return ' (there is no route GET /trades/mine yet, so GET /trades/{trade_id} answered with trade_id="mine")'
    if "/trades/{trade_id}" in paths and paths.index("/trades/{trade_id}") < paths.index("/trades/mine"):
        return (
            ' (GET /trades/{trade_id} is declared before GET /trades/mine and answered with trade_id="mine":'
            " declare GET /trades/mine first)"
        )
    return ""


def as_sent(trade: dict[str, Any]) -> dict[str, Any]:
    """The fields a client sends; the server may store the currency in another case."""
    fields = {key: trade.get(key) for key in NEW_TRADE}
    if isinstance(fields["currency"], str):
        fields["currency"] = fields["currency"].upper()
    return fields


async def expect_stored(client: AsyncClient, trade: dict[str, Any]) -> None:
    """``GET /trades/{id}`` finds the created trade as it was returned."""
    fetched = await client.get(f"/trades/{trade['id']}")
    assert fetched.status_code == 200 and fetched.json() == trade, (
        f"{describe(fetched)}; expected the created trade {trade}: is it stored?"
    )


# 1.1: a path parameter and a 404


@pytest.mark.exercise("1.1", points=1)
async def test_get_user_returns_the_user(client: AsyncClient) -> None:
    """GET /users/3 returns 200 with user 3 as an object: the same id, name and role as in GET /users.
    Every other listed user is found by its id the same way."""
    listed = {user["id"]: user for user in expect_json(await client.get("/users"))}
    for user_id in (3, *(user_id for user_id in listed if user_id != 3)):
        response = await client.get(f"/users/{user_id}")
        body = expect_json(response, 200, f"with user {user_id}")
        assert body == listed[user_id], f"{describe(response)}; expected {listed[user_id]}"


@pytest.mark.exercise("1.1", points=1)
async def test_unknown_user_is_404(client: AsyncClient) -> None:
    """GET /users/999 returns 404 with a `detail` that names the missing id, not 200 with an empty result;
    so do 4 (one past the last user) and 0. An id below 1 may be refused with 422 instead."""
    for user_id in MISSING_USER_IDS:
        expect_missing_user(await client.get(f"/users/{user_id}"), user_id)


# 1.2: an optional query parameter


@pytest.mark.exercise("1.2", points=1)
async def test_trades_filter_by_currency(client: AsyncClient) -> None:
    """GET /trades?currency=BTC returns 200 with exactly the BTC trades (1 and 2), in id order;
    ?currency=DOGE, which no trade has, returns 200 and []; without `currency`, every trade as before."""
    for currency, trade_ids in (("BTC", BTC_TRADE_IDS), ("DOGE", ())):
        expected = await trades_by_id(client, trade_ids)
        response = await client.get("/trades", params={"currency": currency})
        got = expect_json(response)
        assert got == expected, (
            f"{describe(response)}; expected the {currency} trades, ids {list(trade_ids)}, not ids {ids(got)}"
        )
    expected = await trades_by_id(client, SEED_TRADE_IDS)
    response = await client.get("/trades")
    assert expect_json(response) == expected, f"{describe(response)}; expected every trade, ids {list(SEED_TRADE_IDS)}"


@pytest.mark.exercise("1.2", points=1)
async def test_currency_filter_ignores_case(client: AsyncClient) -> None:
    """Case does not matter, in the query or in the stored trade: ?currency=ETH, ?currency=eth and ?currency=Eth
    each return trades 3 and 4 (trade 4 is stored as "eth"), and ?currency=btc returns trades 1 and 2."""
    for currency, trade_ids in (
        ("ETH", ETH_TRADE_IDS),
        ("eth", ETH_TRADE_IDS),
        ("Eth", ETH_TRADE_IDS),
        ("btc", BTC_TRADE_IDS),
    ):
        expected = await trades_by_id(client, trade_ids)
        response = await client.get("/trades", params={"currency": currency})
        got = expect_json(response)
        stored = ", ".join(f"{trade['id']} as {trade['currency']!r}" for trade in expected)
        assert got == expected, (
            f"{describe(response)}; expected trades {list(trade_ids)} (stored: {stored}), not ids {ids(got)}"
        )


@pytest.mark.exercise("1.2", points=1)
async def test_currency_filter_runs_before_paging(client: AsyncClient) -> None:
    """The filter runs before the page is cut: ?currency=ETH&limit=1 returns trade 3, ?currency=ETH&limit=1&offset=1
    returns trade 4, and ?currency=ETH&offset=2 returns []. `limit` and `offset` keep their bounds with a currency:
    limit=100 is accepted; limit=0, limit=101 and offset=-1 get 422."""
    pages = (
        ({"limit": 1}, ETH_TRADE_IDS[:1]),
        ({"limit": 1, "offset": 1}, ETH_TRADE_IDS[1:]),
        ({"offset": 2}, ()),
        ({"limit": 100}, ETH_TRADE_IDS),
    )
    for page, trade_ids in pages:
        expected = await trades_by_id(client, trade_ids)
        response = await client.get("/trades", params={"currency": "ETH", **page})
        got = expect_json(response)
        assert got == expected, (
            f"{describe(response)}; expected trades {list(trade_ids)}, not ids {ids(got)}: filter first, then page"
        )
    for page in ({"limit": 0}, {"limit": 101}, {"offset": -1}):
        response = await client.get("/trades", params={"currency": "ETH", **page})
        assert response.status_code == 422, f"{describe(response)}; expected 422: keep the bounds of limit and offset"


# 1.3: a request body and 201 Created


@pytest.mark.exercise("1.3", points=1)
async def test_create_trade_returns_201_with_new_id(client: AsyncClient) -> None:
    """POST /trades returns 201 and the stored trade with a new id; GET /trades/{id} then finds it.
    A second POST gets another new id, and both trades stay stored."""
    in_use = ids(await all_trades(client))
    created = []
    for _ in range(2):
        response = await client.post("/trades", json=NEW_TRADE)
        trade = expect_json(response, 201)
        assert isinstance(trade, dict) and as_sent(trade) == as_sent(NEW_TRADE), (
            f"{describe(response)}; expected the trade that was sent, {NEW_TRADE}, with an id"
        )
        assert isinstance(trade.get("id"), int) and trade["id"] not in in_use, (
            f"{describe(response)}; expected a new integer id (ids in use: {in_use})"
        )
        in_use.append(trade["id"])
        created.append(trade)
        await expect_stored(client, trade)
    for trade in created:
        await expect_stored(client, trade)


@pytest.mark.exercise("1.3", points=1)
async def test_trade_for_unknown_user_is_404(client: AsyncClient) -> None:
    """POST /trades for a user that does not exist (999) returns 404 with a `detail` naming the user,
    and stores nothing."""
    before = await all_trades(client)
    response = await client.post("/trades", json={**NEW_TRADE, "user_id": 999})
    expect_missing_user(response, 999)
    after = await all_trades(client)
    assert after == before, f"POST /trades for user 999 → expected nothing stored, but trades became ids {ids(after)}"


# 1.4: a header parameter and a route of your own


@pytest.mark.exercise("1.4", points=1)
async def test_my_trades_reads_the_user_header(client: AsyncClient) -> None:
    """GET /trades/mine with header `X-User-Id: 1` returns exactly user 1's trades (1 and 2, in any order), and with
    `X-User-Id: 3` trades 3 and 4; for user 2, who has no trades, it returns 200 and an empty list."""
    seeded = await trades_by_id(client, SEED_TRADE_IDS)
    for user_id in (1, 3, 2):
        expected = [trade for trade in seeded if trade["user_id"] == user_id]
        response = await client.get("/trades/mine", headers={"X-User-Id": str(user_id)})
        hint = await mine_route_hint(client, response)
        got = expect_json(response, 200, f"with user {user_id}'s trades, ids {ids(expected)}{hint}")
        assert in_id_order(got) == expected, (
            f"{describe(response)}; expected user {user_id}'s trades, ids {ids(expected)}"
        )


@pytest.mark.exercise("1.4", points=1)
async def test_my_trades_for_unknown_user_is_404(client: AsyncClient) -> None:
    """GET /trades/mine with `X-User-Id: 999` returns 404 with a `detail` naming 999, and so do 4 and 0
    (an id below 1 may be refused with 422 instead); without the header, 422."""
    for user_id in MISSING_USER_IDS:
        response = await client.get("/trades/mine", headers={"X-User-Id": str(user_id)})
        if hint := await mine_route_hint(client, response):
            raise AssertionError(f"{describe(response)}; expected 404 with a detail naming {user_id}{hint}")
        expect_missing_user(response, user_id)
    missing = await client.get("/trades/mine")
    assert missing.status_code == 422, f"{describe(missing)}; expected 422: the X-User-Id header is required"
