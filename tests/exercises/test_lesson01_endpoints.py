"""Graded checks for lesson 01: first endpoints."""

import pytest
from httpx import AsyncClient

from .expect import expect_status


@pytest.mark.exercise("1.1", points=1)
async def test_get_user_returns_the_user(client: AsyncClient) -> None:
    """GET /users/3 returns 200 with user 3 as an object: id, name and role."""
    response = await client.get("/users/3")
    expect_status(response, 200)
    body = response.json()
    assert isinstance(body, dict) and body.get("id") == 3 and body.get("role") == "trader", (
        f"GET /users/3 → expected user 3 as an object, got {body!r}"
    )


@pytest.mark.exercise("1.1", points=1)
async def test_unknown_user_is_404(client: AsyncClient) -> None:
    """GET /users/999 returns 404 with a `detail` that names the missing id, not an empty list."""
    response = await client.get("/users/999")
    expect_status(response, 404)
    detail = response.json().get("detail", "")
    assert "999" in str(detail), f"GET /users/999 → expected a detail naming 999, got {detail!r}"


@pytest.mark.exercise("1.2", points=1)
async def test_create_trade_returns_201_with_new_id(client: AsyncClient) -> None:
    """POST /trades returns 201 and the stored trade with a new id; GET /trades/{id} then finds it."""
    trade = {"user_id": 2, "currency": "ETH", "side": "buy", "price": 3000.5, "amount": 1.5}
    response = await client.post("/trades", json=trade)
    expect_status(response, 201)
    created = response.json()
    assert {key: created.get(key) for key in trade} == trade, f"POST /trades → expected the trade back, got {created!r}"
    existing = {row["id"] for row in (await client.get("/trades", params={"limit": 100})).json()} - {created["id"]}
    assert isinstance(created.get("id"), int) and created["id"] not in existing, (
        f"POST /trades → expected a new id, got {created.get('id')!r} (ids in use: {sorted(existing)})"
    )
    fetched = await client.get(f"/trades/{created['id']}")
    expect_status(fetched, 200)
    assert fetched.json() == created, f"GET /trades/{created['id']} → expected {created!r}, got {fetched.json()!r}"


@pytest.mark.exercise("1.2", points=1)
async def test_trade_for_unknown_user_is_404(client: AsyncClient) -> None:
    """POST /trades for a user that does not exist returns 404 and stores nothing."""
    before = (await client.get("/trades", params={"limit": 100})).json()
    response = await client.post(
        "/trades", json={"user_id": 999, "currency": "BTC", "side": "sell", "price": 1.0, "amount": 1.0}
    )
    expect_status(response, 404)
    after = (await client.get("/trades", params={"limit": 100})).json()
    assert after == before, f"POST /trades for user 999 → expected nothing stored, but trades changed to {after!r}"


@pytest.mark.exercise("1.3", points=2)
async def test_trades_filter_by_currency(client: AsyncClient) -> None:
    """GET /trades?currency=ETH returns only ETH trades; the filter ignores case (?currency=eth)."""
    for value in ("ETH", "eth"):
        response = await client.get("/trades", params={"currency": value})
        expect_status(response, 200)
        currencies = {trade["currency"] for trade in response.json()}
        assert currencies == {"ETH"}, f"GET /trades?currency={value} → expected only ETH trades, got {currencies}"
    btc = (await client.get("/trades", params={"currency": "BTC"})).json()
    assert btc and {trade["currency"] for trade in btc} == {"BTC"}, (
        f"GET /trades?currency=BTC → expected the BTC trades, got {btc!r}"
    )


@pytest.mark.exercise("1.4", points=1)
async def test_my_trades_reads_the_user_header(client: AsyncClient) -> None:
    """GET /trades/mine with header `X-User-Id: 1` returns exactly user 1's trades."""
    response = await client.get("/trades/mine", headers={"X-User-Id": "1"})
    expect_status(response, 200)
    owners = [trade["user_id"] for trade in response.json()]
    assert owners and set(owners) == {1}, f"GET /trades/mine as user 1 → expected only user 1's trades, got {owners}"
    everything = (await client.get("/trades", params={"limit": 100})).json()
    expected = sorted(trade["id"] for trade in everything if trade["user_id"] == 1)
    got = sorted(trade["id"] for trade in response.json())
    assert got == expected, f"GET /trades/mine as user 1 → expected trades {expected}, got {got}"


@pytest.mark.exercise("1.4", points=1)
async def test_my_trades_for_unknown_user_is_404(client: AsyncClient) -> None:
    """GET /trades/mine with `X-User-Id: 999` returns 404; without the header, 422."""
    response = await client.get("/trades/mine", headers={"X-User-Id": "999"})
    expect_status(response, 404)
    missing = await client.get("/trades/mine")
    expect_status(missing, 422)
