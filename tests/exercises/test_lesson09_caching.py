"""Graded checks for lesson 09: a trading API made fast with Redis and HTTP caching, kept fair with rate limits.

Every check talks to the app over HTTP as one of the two traders it starts with, alice (user 1)
and bob (user 2), each sending an API key as a bearer token. Alice holds 10 AAPL and 5 MSFT,
bob 20 SAP. The simulated market data provider gives every quote it serves the next ``tick`` of
its symbol, so two answers with the same tick are one quote, served again from a cache. The app
says in ``X-Cache`` whether an answer came from its response cache (HIT) or was just made (MISS).
Delays, lifetimes and limits come from settings, so no check waits more than 1.5 s.
"""

import re
import time
from typing import Any

import anyio
import httpx
import pytest
from httpx import AsyncClient

from course.pytest_plugin import LabFactory

from .expect import describe, expect_json, expect_status, isolated_settings

ALICE = {"Authorization": "Bearer alice-key-7f3a"}
BOB = {"Authorization": "Bearer bob-key-52c1"}
# A provider that answers at once, unless a check wants it slow.
# An instant provider, and entries that outlive any check: a check not about expiry gives the same verdict
# however slowly the app runs, even for an app that stores its TTL in milliseconds.
FAST = {
    "TRADING_PROVIDER_DELAY_SECONDS": "0",
    "TRADING_QUOTE_TTL_SECONDS": "3600",
    "TRADING_PORTFOLIO_TTL_SECONDS": "3600",
}
BUY_NVDA = {"symbol": "NVDA", "side": "buy", "quantity": 2, "price": "880.00"}
ETAG = re.compile(r'^(W/)?"[\x21\x23-\x7e]*"$')

# Checks about time retry when the machine was too slow to test what they test, and so never fail a correct app.
ATTEMPTS = 3

hermetic_settings = isolated_settings("TRADING_")


async def sleep_until(moment: float) -> None:
    """Sleep until ``time.monotonic()`` reaches ``moment``."""
    await anyio.sleep(max(0.0, moment - time.monotonic()))


# --- reading answers -------------------------------------------------------------------------------


async def quote(client: AsyncClient, path: str, user: dict[str, str] = ALICE, what: str = "") -> dict[str, Any]:
    """A quote: 200 with the symbol, currency, price and tick."""
    response = await client.get(path, headers=user)
    body = expect_json(response, 200, what)
    assert isinstance(body, dict) and isinstance(body.get("tick"), int), (
        f"{describe(response)}; expected a quote with a whole-number `tick` {what}"
    )
    return body


def cache_status(response: httpx.Response) -> str:
    return str(response.headers.get("x-cache", "")).upper()


def expect_cache(response: httpx.Response, expected: str, what: str) -> None:
    """X-Cache: HIT (the answer came from the cache) or MISS (it was just made)."""
    got = response.headers.get("x-cache")
    assert cache_status(response) == expected, (
        f"{describe(response)}; expected `X-Cache: {expected}` {what}, got {got!r}"
    )


async def portfolio(client: AsyncClient, user: dict[str, str], cache: str, what: str) -> dict[str, Any]:
    """The caller's portfolio (200), served from the cache (HIT) or made afresh (MISS) as the check expects."""
    response = await client.get("/portfolio", headers=user)
    body = expect_json(response, 200, what)
    expect_cache(response, cache, what)
    assert isinstance(body, dict), f"{describe(response)}; expected the portfolio as a JSON object {what}"
    return body


def expect_owner(response: httpx.Response, owner: str, what: str) -> None:
    body = response.json()
    assert isinstance(body, dict) and body.get("owner") == owner, (
        f"{describe(response)}; expected {owner}'s own data {what}, never another trader's"
    )


def holdings(body: dict[str, Any]) -> dict[str, int]:
    return {position["symbol"]: position["quantity"] for position in body.get("positions", [])}


def directives(response: httpx.Response) -> dict[str, str | None]:
    """``Cache-Control: public, max-age=30`` → ``{"public": None, "max-age": "30"}``, names in lower case."""
    found: dict[str, str | None] = {}
    for part in response.headers.get("cache-control", "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            found[name.strip().lower()] = value.strip().strip('"') or None
    return found


def expect_directives(response: httpx.Response, present: dict[str, str | None], absent: tuple[str, ...]) -> None:
    """Cache-Control has each directive of ``present`` (with that value, if one is given) and none of ``absent``."""
    found = directives(response)
    wanted = ", ".join(name if value is None else f"{name}={value}" for name, value in present.items())
    header = response.headers.get("cache-control")
    for name, value in present.items():
        assert name in found and (value is None or found[name] == value), (
            f"{describe(response)}; expected `Cache-Control` with {wanted}, got {header!r}"
        )
    for name in absent:
        assert name not in found, (
            f"{describe(response)}; expected `Cache-Control` without {name} (wanted {wanted}), got {header!r}"
        )


async def trade(client: AsyncClient, user: dict[str, str], body: dict[str, Any]) -> None:
    response = await client.post("/portfolio/trades", headers=user, json=body)
    expect_status(response, 201, "(a trade the trader can afford)")


# --- 9.1: cache-aside in Redis ---------------------------------------------------------------------


@pytest.mark.exercise("9.1", points=2)
async def test_a_cached_quote_is_served_until_its_ttl_ends(lab: LabFactory) -> None:
    """With TRADING_QUOTE_TTL_SECONDS=1: GET /quotes/AAPL, and again 0.7 s later → the same quote, same tick (the
    second from the cache, near the end of its TTL); 1.1 s after the first the entry has expired → a fresh quote
    with a later tick."""
    async with lab(env={**FAST, "TRADING_QUOTE_TTL_SECONDS": "1"}) as client:
        for attempt in range(1, ATTEMPTS + 1):
            sent = time.monotonic()
            first = await quote(client, "/quotes/AAPL")
            stored_by = time.monotonic()  # the entry was stored between `sent` and now
            await sleep_until(max(sent + 0.7, stored_by + 0.1))
            asked_again = time.monotonic()
            again = await quote(client, "/quotes/AAPL", what="(asked again 0.7 s later)")
            if again != first and asked_again > sent + 0.9 and attempt < ATTEMPTS:
                # Too slow to be sure the entry was still within its TTL: try again once it has surely expired.
                await sleep_until(stored_by + 1.1)
                continue
            assert again == first, (
                f"GET /quotes/AAPL, then 0.7 s later, within the 1 s TTL → got {first} then {again}; expected the"
                " cached quote again, the same tick: the provider must be asked once, and the entry kept for its"
                " whole TTL"
            )
            await sleep_until(stored_by + 1.1)
            later = await quote(client, "/quotes/AAPL", what="(1.1 s later)")
            assert later["tick"] > first["tick"], (
                f"GET /quotes/AAPL 1.1 s after the first (TRADING_QUOTE_TTL_SECONDS=1) → got tick {later['tick']};"
                f" expected a fresh quote with a tick after {first['tick']}: the entry must expire after its TTL"
            )
            return


@pytest.mark.exercise("9.1", points=1)
async def test_each_set_of_parameters_has_its_own_entry(lab: LabFactory) -> None:
    """The key holds every parameter: GET /quotes/AAPL, /quotes/MSFT and /quotes/AAPL?currency=EUR each get their own
    quote (their own symbol and currency); asked again, each comes back with its own tick."""
    async with lab(env=FAST) as client:
        paths = {
            "/quotes/AAPL": ("AAPL", "USD"),
            "/quotes/MSFT": ("MSFT", "USD"),
            "/quotes/AAPL?currency=EUR": ("AAPL", "EUR"),
        }
        first: dict[str, dict[str, Any]] = {}
        for path, (symbol, currency) in paths.items():
            body = await quote(client, path)
            assert (body.get("symbol"), body.get("currency")) == (symbol, currency), (
                f"GET {path} → got {body}; expected a quote of {symbol} in {currency}: each set of parameters"
                " needs its own cache key"
            )
            first[path] = body
        for path in paths:
            again = await quote(client, path, what="(asked a second time)")
            assert again == first[path], (
                f"GET {path} a second time → got {again}; expected its cached quote {first[path]}"
            )


@pytest.mark.exercise("9.1", points=1)
async def test_instances_share_the_cache(lab: LabFactory) -> None:
    """The cache lives in Redis: a quote cached by one instance of the app is served by another, same tick."""
    async with lab(env=FAST) as first, lab(env=FAST) as second:
        cached = await quote(first, "/quotes/NVDA", what="(on instance A)")
        other = await quote(second, "/quotes/NVDA", what="(on instance B)")
        assert other == cached, (
            f"GET /quotes/NVDA on instance A → {cached}, then on instance B → {other}; expected B to serve A's"
            " cached quote: the cache must live in Redis, which every instance shares"
        )


@pytest.mark.exercise("9.1", points=2)
async def test_a_trade_invalidates_the_traders_cached_portfolio(lab: LabFactory) -> None:
    """GET /portfolio is cached (the second read → X-Cache: HIT). After alice buys 2 NVDA (201), her next read →
    MISS and lists NVDA 2. Only her entry is forgotten: bob's cached portfolio and a cached quote stay cached."""
    async with lab(env=FAST) as client:
        await portfolio(client, ALICE, "MISS", "(alice's first read)")
        before = await portfolio(client, ALICE, "HIT", "(alice's second read: from the cache)")
        await portfolio(client, BOB, "MISS", "(bob's first read)")
        cached_quote = await quote(client, "/quotes/AAPL")
        await trade(client, ALICE, BUY_NVDA)
        after = await portfolio(client, ALICE, "MISS", "(alice's read after her trade: the trade changed it)")
        assert holdings(after).get("NVDA") == 2, (
            f"GET /portfolio after alice bought 2 NVDA → {after}; expected NVDA 2 among her positions"
            f" (before: {before})"
        )
        await portfolio(client, BOB, "HIT", "(bob's read after alice's trade: his entry did not change)")
        again = await quote(client, "/quotes/AAPL", what="(after the trade)")
        assert again == cached_quote, (
            f"GET /quotes/AAPL after alice's trade → {again}; expected the quote cached before it, {cached_quote}:"
            " a trade forgets only the trader's portfolio"
        )


# --- 9.2: per-user keys and Cache-Control -----------------------------------------------------------


@pytest.mark.exercise("9.2", points=1)
async def test_quotes_are_public_for_their_ttl(lab: LabFactory) -> None:
    """With TRADING_QUOTE_TTL_SECONDS=45: GET /quotes/AAPL → `Cache-Control` with `public` and `max-age=45`, and
    neither `private` nor `no-store`: a quote is the same for everyone, and any cache may keep it 45 s."""
    async with lab(env={**FAST, "TRADING_QUOTE_TTL_SECONDS": "45"}) as client:
        for attempt in ("first", "second"):
            response = await client.get("/quotes/AAPL", headers=ALICE)
            expect_status(response, 200, f"({attempt} read)")
            expect_directives(response, {"public": None, "max-age": "45"}, ("private", "no-store"))


@pytest.mark.exercise("9.2", points=3)
async def test_the_portfolio_is_private_and_cached_per_user(lab: LabFactory) -> None:
    """With TRADING_PORTFOLIO_TTL_SECONDS=75: GET /portfolio → `Cache-Control` with `private` and `max-age=75`, not
    `public`. Each trader gets their own entry: alice → MISS, bob → MISS with his own portfolio (never alice's
    cached one), then alice → HIT with hers and bob → HIT with his."""
    async with lab(env={**FAST, "TRADING_PORTFOLIO_TTL_SECONDS": "75"}) as client:
        reads = ((ALICE, "Alice Martin", "MISS"), (BOB, "Bob Chen", "MISS"), (ALICE, "Alice Martin", "HIT"))
        for user, owner, cache in (*reads, (BOB, "Bob Chen", "HIT")):
            what = f"({owner.split()[0].lower()}'s {'first' if cache == 'MISS' else 'second'} read)"
            response = await client.get("/portfolio", headers=user)
            expect_status(response, 200, what)
            expect_owner(response, owner, what)
            expect_cache(response, cache, what)
            expect_directives(response, {"private": None, "max-age": "75"}, ("public", "no-store"))


@pytest.mark.exercise("9.2", points=2)
async def test_the_account_is_never_stored(lab: LabFactory) -> None:
    """GET /account → `Cache-Control` with `no-store`, and not `public`. Nothing keeps it: after
    alice buys 2 NVDA at 880.00, her next read shows her cash 1760.00 lower; bob reads his own account."""
    async with lab(env=FAST) as client:
        response = await client.get("/account", headers=ALICE)
        before = expect_json(response, 200, "(alice's account)")
        expect_directives(response, {"no-store": None}, ("public",))
        await trade(client, ALICE, BUY_NVDA)
        response = await client.get("/account", headers=ALICE)
        after = expect_json(response, 200, "(alice's account after her trade)")
        expect_directives(response, {"no-store": None}, ("public",))
        spent = float(before["cash"]) - float(after["cash"])
        assert abs(spent - 1760) < 0.005, (
            f"GET /account after buying 2 NVDA at 880.00 → cash {after['cash']}, before {before['cash']};"
            " expected 1760.00 less: a no-store answer is made afresh for every request"
        )
        response = await client.get("/account", headers=BOB)
        expect_status(response, 200, "(bob's account)")
        expect_owner(response, "Bob Chen", "(bob's account)")


# --- 9.3: ETag, If-None-Match and Vary -----------------------------------------------------------------


def etag_of(response: httpx.Response, what: str) -> str:
    tag = str(response.headers.get("etag", ""))
    assert ETAG.match(tag), f"{describe(response)}; expected an `ETag` header, a quoted string {what}, got {tag!r}"
    return tag


async def conditional(
    client: AsyncClient, path: str, user: dict[str, str], if_none_match: str, status: int, what: str
) -> httpx.Response:
    response = await client.get(path, headers={**user, "If-None-Match": if_none_match})
    expect_status(response, status, what)
    if status == 304:
        assert not response.content, f"{describe(response)}; expected a 304 without a body {what}"
    return response


@pytest.mark.exercise("9.3", points=2)
async def test_a_current_etag_is_answered_with_304(lab: LabFactory) -> None:
    """GET /quotes/AAPL → 200 with an `ETag`. Asked again with `If-None-Match` naming it → 304 without a body, with
    the same ETag and Cache-Control; also as `W/` + the tag, in a list (`"other", <tag>`) and as `*`. Any other
    tag → 200 with the quote."""
    async with lab(env=FAST) as client:
        first = await client.get("/quotes/AAPL", headers=ALICE)
        expect_status(first, 200, "(the first read)")
        tag = etag_of(first, "(on a cacheable answer)")
        strong = tag.removeprefix("W/")
        for sent in (tag, f"W/{strong}", f'"other-version", {tag}', "*"):
            response = await conditional(client, "/quotes/AAPL", ALICE, sent, 304, "(the client has this version)")
            assert response.headers.get("etag") == tag, (
                f"{describe(response)}; expected the 304 to carry the same ETag {tag},"
                f" got {response.headers.get('etag')!r}"
            )
            assert response.headers.get("cache-control") == first.headers.get("cache-control"), (
                f"{describe(response)}; expected the 304 to carry the 200's Cache-Control"
                f" {first.headers.get('cache-control')!r}, got {response.headers.get('cache-control')!r}"
            )
        other = await conditional(client, "/quotes/AAPL", ALICE, '"other-version"', 200, "(another version)")
        assert other.json() == first.json(), f"{describe(other)}; expected the quote {first.text}"


@pytest.mark.exercise("9.3", points=2)
async def test_a_changed_portfolio_gets_a_new_etag_and_200(lab: LabFactory) -> None:
    """alice's GET /portfolio → 200 with an ETag; with `If-None-Match` naming it → 304. After she buys 2 NVDA, the
    old tag → 200 with the new portfolio and a new ETag, and the new tag → 304. bob sending alice's tag → 200 with
    his own portfolio."""
    async with lab(env=FAST) as client:
        first = await client.get("/portfolio", headers=ALICE)
        expect_status(first, 200, "(alice's first read)")
        old = etag_of(first, "(on alice's portfolio)")
        await conditional(client, "/portfolio", ALICE, old, 304, "(alice has the current version)")
        bobs = await conditional(client, "/portfolio", BOB, old, 200, "(bob sends the tag of alice's portfolio)")
        expect_owner(bobs, "Bob Chen", "(bob sends alice's tag)")
        await trade(client, ALICE, BUY_NVDA)
        changed = await conditional(client, "/portfolio", ALICE, old, 200, "(her portfolio changed with the trade)")
        assert holdings(changed.json()).get("NVDA") == 2, f"{describe(changed)}; expected NVDA 2 among her positions"
        new = etag_of(changed, "(on the changed portfolio)")
        assert new.removeprefix("W/") != old.removeprefix("W/"), (
            f"{describe(changed)}; expected a new ETag for the changed portfolio, got the old one {old}"
        )
        await conditional(client, "/portfolio", ALICE, new, 304, "(the new tag is current)")


@pytest.mark.exercise("9.3", points=1)
async def test_per_user_answers_vary_on_authorization(lab: LabFactory) -> None:
    """GET /portfolio → `Vary` naming `Authorization` (the answer depends on who asks); its 304 carries `Vary`,
    `ETag` and `Cache-Control` too."""
    async with lab(env=FAST) as client:
        first = await client.get("/portfolio", headers=ALICE)
        expect_status(first, 200, "(alice's portfolio)")
        tag = etag_of(first, "(on alice's portfolio)")
        not_modified = await conditional(client, "/portfolio", ALICE, tag, 304, "(alice has the current version)")
        for response in (first, not_modified):
            varies = {name.strip().lower() for name in response.headers.get("vary", "").split(",")}
            assert "authorization" in varies, (
                f"{describe(response)}; expected `Vary` naming Authorization, got {response.headers.get('vary')!r}"
            )
            for header in ("etag", "cache-control"):
                assert response.headers.get(header) == first.headers.get(header), (
                    f"{describe(response)}; expected `{header}: {first.headers.get(header)}` as on the 200,"
                    f" got {response.headers.get(header)!r}"
                )


# --- 9.4: rate limits -----------------------------------------------------------------------------------


def expect_429(response: httpx.Response, window: int, what: str) -> int:
    """429 with {"detail": ...} and `Retry-After`: the whole seconds left in the window, 1 to ``window``."""
    body = expect_json(response, 429, what)
    assert isinstance(body, dict) and isinstance(body.get("detail"), str), (
        f'{describe(response)}; expected a body {{"detail": "..."}} {what}'
    )
    value = response.headers.get("retry-after", "")
    assert value.isdigit() and 1 <= int(value) <= window, (
        f"{describe(response)}; expected `Retry-After` with the seconds left in the {window} s window"
        f" (1 to {window}) {what}, got {value!r}"
    )
    return int(value)


@pytest.mark.exercise("9.4", points=2)
async def test_the_global_limit_answers_429_with_retry_after(lab: LabFactory) -> None:
    """With TRADING_RATE_LIMIT=3 and a 60 s window: alice's first 3 requests to any API routes → 200; her 4th →
    429 with `Retry-After` (1 to 60). bob has a count of his own (3 requests → 200), and GET /health is exempt:
    200 however often it is asked."""
    env = {**FAST, "TRADING_RATE_LIMIT": "3", "TRADING_RATE_LIMIT_WINDOW_SECONDS": "60"}
    async with lab(env=env) as client:
        for number, path in enumerate(("/quotes/AAPL", "/portfolio", "/account"), start=1):
            expect_status(await client.get(path, headers=ALICE), 200, f"(alice's request {number} of 3 allowed)")
        expect_429(await client.get("/quotes/MSFT", headers=ALICE), 60, "(alice's 4th request: over the limit of 3)")
        for number in range(1, 4):
            expect_status(await client.get("/portfolio", headers=BOB), 200, f"(bob's request {number}: his own count)")
        for number in range(1, 6):
            expect_status(await client.get("/health"), 200, f"(GET /health number {number}: exempt from limits)")


@pytest.mark.exercise("9.4", points=1)
async def test_the_limit_lifts_when_its_window_ends(lab: LabFactory) -> None:
    """With TRADING_RATE_LIMIT=2 and TRADING_RATE_LIMIT_WINDOW_SECONDS=1: 2 requests → 200, the 3rd → 429 with
    `Retry-After: 1`, and so is a request 0.6 s later; 1.2 s after the first, the window has ended → 200. One request
    of bob's before them counts against his own limit, not alice's."""
    env = {**FAST, "TRADING_RATE_LIMIT": "2", "TRADING_RATE_LIMIT_WINDOW_SECONDS": "1"}
    async with lab(env=env) as client:
        # bob's request opens the app's connections, so alice's window starts close to when her first is sent.
        expect_status(await client.get("/portfolio", headers=BOB), 200, "(bob's first request)")
        for attempt in range(1, ATTEMPTS + 1):
            start = time.monotonic()
            expect_status(await client.get("/portfolio", headers=ALICE), 200, "(request 1 of 2 allowed)")
            started_by = time.monotonic()  # the window started between `start` and now
            expect_status(await client.get("/portfolio", headers=ALICE), 200, "(request 2 of 2 allowed)")
            expect_429(await client.get("/portfolio", headers=ALICE), 1, "(the 3rd request in the 1 s window)")
            # Late enough that a window extended by this refused request would outlast the last request below.
            await sleep_until(max(start + 0.6, started_by + 0.25))
            if time.monotonic() > start + 0.85 and attempt < ATTEMPTS:
                await sleep_until(started_by + 1.2)  # too slow to be inside the window for sure: start again
                continue
            expect_429(await client.get("/portfolio", headers=ALICE), 1, "(0.6 s after the first: the same window)")
            await sleep_until(started_by + 1.2)
            response = await client.get("/portfolio", headers=ALICE)
            expect_status(
                response,
                200,
                "(1.2 s after the first request: its 1 s window has ended; refused requests do not extend it)",
            )
            return


@pytest.mark.exercise("9.4", points=2)
async def test_trades_have_a_tighter_limit_of_their_own(lab: LabFactory) -> None:
    """With TRADING_TRADE_LIMIT=2 and TRADING_RATE_LIMIT=10: after 3 quotes, alice's 2 trades → 201 and her 3rd →
    429 with `Retry-After` (1 to 60); her GET /portfolio still → 200 (the global limit is not used up), and bob's
    trade → 201."""
    env = {**FAST, "TRADING_TRADE_LIMIT": "2", "TRADING_RATE_LIMIT": "10"}
    async with lab(env=env) as client:
        for symbol in ("AAPL", "MSFT", "SAP"):
            await quote(client, f"/quotes/{symbol}", what="(a quote before trading)")
        small = {**BUY_NVDA, "quantity": 1}
        for number in (1, 2):
            response = await client.post("/portfolio/trades", headers=ALICE, json=small)
            expect_status(response, 201, f"(alice's trade {number} of 2 allowed; quotes do not count against trades)")
        response = await client.post("/portfolio/trades", headers=ALICE, json=small)
        expect_429(response, 60, "(alice's 3rd trade: over the trade limit of 2)")
        expect_status(await client.get("/portfolio", headers=ALICE), 200, "(6 of alice's 10 requests: under the limit)")
        response = await client.post("/portfolio/trades", headers=BOB, json=small)
        expect_status(response, 201, "(bob's first trade: his own count)")


@pytest.mark.exercise("9.4", points=1)
async def test_instances_share_the_limit(lab: LabFactory) -> None:
    """With TRADING_RATE_LIMIT=4, the count lives in Redis: 2 requests on instance A and 2 on B → 200; the next
    request → 429 on A and on B."""
    env = {**FAST, "TRADING_RATE_LIMIT": "4"}
    async with lab(env=env) as first, lab(env=env) as second:
        for name, client in (("A", first), ("A", first), ("B", second), ("B", second)):
            expect_status(await client.get("/portfolio", headers=ALICE), 200, f"(a request on instance {name}, of 4)")
        for name, client in (("A", first), ("B", second)):
            response = await client.get("/portfolio", headers=ALICE)
            expect_429(response, 60, f"(on instance {name}, after 4 requests on A and B together)")


# --- 9.5 (stretch): the stampede guard --------------------------------------------------------------------


async def all_at_once(clients: list[AsyncClient], path: str) -> list[httpx.Response]:
    """The same request sent by each client at the same moment."""
    responses: list[httpx.Response | None] = [None] * len(clients)

    async def send(index: int, client: AsyncClient) -> None:
        responses[index] = await client.get(path, headers=ALICE)

    async with anyio.create_task_group() as group:
        for index, client in enumerate(clients):
            group.start_soon(send, index, client)
    return [response for response in responses if response is not None]


def expect_one_load(responses: list[httpx.Response], what: str) -> None:
    ticks = []
    for response in responses:
        body = expect_json(response, 200, what)
        ticks.append(body.get("tick") if isinstance(body, dict) else None)
    assert len(set(ticks)) == 1, (
        f"{len(responses)} concurrent GET {responses[0].request.url.path} {what} → ticks {ticks}; expected one tick"
        " for all: while one request loads a missing entry, the others wait for it instead of asking the provider"
    )


@pytest.mark.exercise("9.5", points=2)
async def test_concurrent_misses_ask_the_provider_once(lab: LabFactory) -> None:
    """With a provider that takes 0.3 s: 6 concurrent GET /quotes/AAPL on an empty cache → 200 with the same tick:
    one request loads, the others wait for its quote."""
    async with lab(env={"TRADING_PROVIDER_DELAY_SECONDS": "0.3"}) as client:
        expect_one_load(await all_at_once([client] * 6, "/quotes/AAPL"), "(one instance)")


@pytest.mark.exercise("9.5", points=1)
async def test_concurrent_misses_on_two_instances_ask_the_provider_once(lab: LabFactory) -> None:
    """The guard holds across instances: 3 concurrent GET /quotes/ASML on instance A and 3 on B, with a provider
    that takes 0.3 s → the same tick for all 6."""
    env = {"TRADING_PROVIDER_DELAY_SECONDS": "0.3"}
    async with lab(env=env) as first, lab(env=env) as second:
        expect_one_load(await all_at_once([first, second] * 3, "/quotes/ASML"), "(on two instances)")


@pytest.mark.exercise("9.5", points=1)
async def test_a_failed_load_lets_the_next_request_try(lab: LabFactory) -> None:
    """With TRADING_CACHE_LOCK_SECONDS=10 and a provider that takes 0.1 s: 3 concurrent GET /quotes/ZZZZ (unknown)
    → 404 each, and then 3 concurrent GET /quotes/AAPL → one tick, all within 1.5 s: a request whose load fails
    gives up its turn at once, instead of making the others wait for the lock to expire."""
    env = {"TRADING_PROVIDER_DELAY_SECONDS": "0.1", "TRADING_CACHE_LOCK_SECONDS": "10"}
    async with lab(env=env) as client:
        start = time.monotonic()
        for response in await all_at_once([client] * 3, "/quotes/ZZZZ"):
            expect_status(response, 404, "(a symbol the provider does not list)")
        expect_one_load(await all_at_once([client] * 3, "/quotes/AAPL"), "(after the failed loads)")
        elapsed = time.monotonic() - start
        assert elapsed <= 1.5, (
            f"3 concurrent GET /quotes/ZZZZ, then 3 concurrent GET /quotes/AAPL took {elapsed:.1f} s; expected at"
            " most 1.5 s: a failed load must release its lock"
        )
