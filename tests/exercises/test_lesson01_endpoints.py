"""Graded checks for lesson 01: first endpoints."""

from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from .expect import describe, expect_json

NEW_TRADE = {"user_id": 2, "currency": "ETH", "side": "buy", "price": 3000.5, "amount": 1.5}


async def all_trades(client: AsyncClient) -> list[dict[str, Any]]:
    """Every trade, through the given ``GET /trades`` (the seed holds fewer than 100)."""
    return expect_json(await client.get("/trades", params={"limit": 100}))


def ids(trades: list[dict[str, Any]]) -> list[Any]:
    return [trade.get("id") for trade in trades]


def route_order_hint(response: httpx.Response) -> str:
    """A 422 that complains about the path means another route caught the request."""
    if response.status_code == 422 and "path" in response.text:
        return " (GET /trades/{trade_id} answered: is GET /trades/mine declared before it?)"
    return ""


# 1.1: a path parameter and a 404


@pytest.mark.exercise("1.1", points=1)
async def test_get_user_returns_the_user(client: AsyncClient) -> None:
    """GET /users/3 returns 200 with user 3 as an object: the same id, name and role as in GET /users."""
    listed = {user["id"]: user for user in expect_json(await client.get("/users"))}
    response = await client.get("/users/3")
    body = expect_json(response)
    assert body == listed[3], f"{describe(response)}; expected {listed[3]}"


@pytest.mark.exercise("1.1", points=1)
async def test_unknown_user_is_404(client: AsyncClient) -> None:
    """GET /users/999 returns 404 with a `detail` that names the missing id, not 200 with an empty result."""
    response = await client.get("/users/999")
    body = expect_json(response, 404)
    assert "999" in str(body.get("detail", "")), f"{describe(response)}; expected a detail naming 999"


# 1.2: an optional query parameter


@pytest.mark.exercise("1.2", points=1)
async def test_trades_filter_by_currency(client: AsyncClient) -> None:
    """GET /trades?currency=BTC returns exactly the BTC trades; the filter runs before the page is cut, so
    ?currency=ETH&limit=1 returns the first ETH trade."""
    everything = await all_trades(client)
    for currency in ("BTC", "ETH"):
        expected = [trade for trade in everything if trade["currency"] == currency]
        response = await client.get("/trades", params={"currency": currency})
        got = expect_json(response)
        assert got == expected, f"{describe(response)}; expected the {currency} trades, ids {ids(expected)}"
    first_eth = [trade for trade in everything if trade["currency"] == "ETH"][:1]
    response = await client.get("/trades", params={"currency": "ETH", "limit": 1})
    got = expect_json(response)
    assert got == first_eth, f"{describe(response)}; expected only trade {ids(first_eth)}: filter first, then page"


@pytest.mark.exercise("1.2", points=1)
async def test_currency_filter_ignores_case(client: AsyncClient) -> None:
    """GET /trades?currency=eth returns the same trades as ?currency=ETH: the ETH trades only."""
    expected = [trade for trade in await all_trades(client) if trade["currency"] == "ETH"]
    response = await client.get("/trades", params={"currency": "eth"})
    got = expect_json(response)
    assert got == expected, f"{describe(response)}; expected the ETH trades, ids {ids(expected)}"


# 1.3: a request body and 201 Created


@pytest.mark.exercise("1.3", points=1)
async def test_create_trade_returns_201_with_new_id(client: AsyncClient) -> None:
    """POST /trades returns 201 and the stored trade with a new id; GET /trades/{id} then finds it."""
    existing = ids(await all_trades(client))
    response = await client.post("/trades", json=NEW_TRADE)
    created = expect_json(response, 201)
    assert isinstance(created, dict) and {key: created.get(key) for key in NEW_TRADE} == NEW_TRADE, (
        f"{describe(response)}; expected the trade that was sent, {NEW_TRADE}, with an id"
    )
    assert isinstance(created.get("id"), int) and created["id"] not in existing, (
        f"{describe(response)}; expected a new integer id (ids in use: {existing})"
    )
    fetched = await client.get(f"/trades/{created['id']}")
    assert expect_json(fetched) == created, f"{describe(fetched)}; expected the created trade {created}"


@pytest.mark.exercise("1.3", points=1)
async def test_trade_for_unknown_user_is_404(client: AsyncClient) -> None:
    """POST /trades for a user that does not exist returns 404 with a `detail` naming the user, and stores nothing."""
    before = await all_trades(client)
    response = await client.post("/trades", json={**NEW_TRADE, "user_id": 999})
    body = expect_json(response, 404)
    assert "999" in str(body.get("detail", "")), f"{describe(response)}; expected a detail naming user 999"
    after = await all_trades(client)
    assert after == before, f"POST /trades for user 999 → expected nothing stored, but trades became ids {ids(after)}"


# 1.4: a header parameter and a route of your own


@pytest.mark.exercise("1.4", points=1)
async def test_my_trades_reads_the_user_header(client: AsyncClient) -> None:
    """GET /trades/mine with header `X-User-Id: 1` returns exactly user 1's trades; for a user without
    trades it returns 200 and an empty list."""
    everything = await all_trades(client)
    users = ids(expect_json(await client.get("/users")))
    traders = {trade["user_id"] for trade in everything}
    idle = next(user for user in users if user not in traders)
    for user_id in (1, idle):
        expected = [trade for trade in everything if trade["user_id"] == user_id]
        response = await client.get("/trades/mine", headers={"X-User-Id": str(user_id)})
        assert response.status_code == 200, f"{describe(response)}; expected 200{route_order_hint(response)}"
        got = response.json()
        assert got == expected, f"{describe(response)}; expected user {user_id}'s trades, ids {ids(expected)}"


@pytest.mark.exercise("1.4", points=1)
async def test_my_trades_for_unknown_user_is_404(client: AsyncClient) -> None:
    """GET /trades/mine with `X-User-Id: 999` returns 404 with a `detail` naming 999; without the header, 422."""
    response = await client.get("/trades/mine", headers={"X-User-Id": "999"})
    assert response.status_code == 404, f"{describe(response)}; expected 404{route_order_hint(response)}"
    assert "999" in str(response.json().get("detail", "")), f"{describe(response)}; expected a detail naming 999"
    missing = await client.get("/trades/mine")
    assert missing.status_code == 422 and "header" in missing.text, (
        f"{describe(missing)}; expected 422 complaining about the missing X-User-Id header"
    )
