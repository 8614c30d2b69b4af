"""Graded checks for lesson 05: REST design, errors and structure."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from httpx import AsyncClient

from course.pytest_plugin import LabFactory

from .expect import describe, expect_json, expect_status

API = "/api/v1"
ACCOUNTS = f"{API}/accounts"
OPERATIONS = f"{API}/operations"
NEW_ACCOUNT = {"number": "ACC-1004", "owner": "Li Wei", "currency": "CNY"}
NEW_OPERATION = {
    "account_id": 3,
    "ticker": "ERIC.B",
    "side": "buy",
    "quantity": "100",
    "price": "58.24",
    "trade_date": "2024-03-11",
}
# Words that only a database driver or SQLAlchemy would put in a message.
DRIVER_TEXT = (
    "sqlite", "psycopg", "sqlalchemy", "sqlalche.me", "integrityerror", "operationalerror", "constraint failed",
    "violates unique constraint", "duplicate key", "unable to open", "connection refused", "connection failed",
    "127.0.0.1", "traceback",
)  # fmt: skip


@pytest.fixture(autouse=True)
def hermetic_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Only the environment a check passes to `lab` counts: no stray TRADING_* variable, no .env file."""
    for name in list(os.environ):
        if name.upper().startswith("TRADING_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


def expect_error(response: httpx.Response, status: int, what: str = "") -> str:
    """An error answer: the status, and a body that is exactly ``{"detail": "<text>"}``. Returns the text."""
    expected = f'{status} with a body {{"detail": "<text>"}}' + (f" ({what})" if what else "")
    assert response.status_code == status, f"{describe(response)}; expected {expected}"
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{describe(response)}; expected {expected}, not a body that is not JSON") from None
    assert isinstance(body, dict) and set(body) == {"detail"}, (
        f"{describe(response)}; expected {expected}: the status code carries the status, so no other keys"
    )
    detail = body["detail"]
    assert isinstance(detail, str) and detail.strip(), f"{describe(response)}; expected `detail` to be a message"
    leaked = [word for word in DRIVER_TEXT if word in response.text.lower()]
    assert not leaked, f"{describe(response)}; expected a message of the API's own, not driver text ({leaked[0]!r})"
    return detail


async def all_of(client: AsyncClient, collection: str, **params: Any) -> dict[str, Any]:
    """The first page of a collection with the largest limit, as JSON (the seed fits on it)."""
    return expect_json(await client.get(collection, params={"limit": 100, **params}), 200)


def ids(items: list[dict[str, Any]]) -> list[Any]:
    return [item.get("id") for item in items]


def expect_page(response: httpx.Response, limit: int, offset: int) -> dict[str, Any]:
    """A page: ``{"items": [...], "total": <int>, "limit": limit, "offset": offset}``."""
    page = expect_json(response, 200)
    shape = '{"items": [...], "total": <int>, "limit": ..., "offset": ...}'
    assert isinstance(page, dict) and isinstance(page.get("items"), list) and isinstance(page.get("total"), int), (
        f"{describe(response)}; expected a page {shape}"
    )
    got = (page.get("limit"), page.get("offset"))
    assert got == (limit, offset), f"{describe(response)}; expected limit {limit} and offset {offset}, got {got}"
    return page


# --- 5.1: POST answers 201 with Location; PUT replaces and never creates ----------------------------


@pytest.mark.exercise("5.1", points=2)
async def test_post_answers_201_with_a_location(client: AsyncClient) -> None:
    """POST /api/v1/accounts with a new account answers 201 with the account and its new `id`, and a `Location`
    header holding its URL, /api/v1/accounts/{id}; GET on that URL returns the same account."""
    response = await client.post(ACCOUNTS, json=NEW_ACCOUNT)
    created = expect_json(response, 201, "with the new account")
    assert isinstance(created, dict) and isinstance(created.get("id"), int), f"{describe(response)}; expected an id"
    assert {key: created.get(key) for key in NEW_ACCOUNT} == NEW_ACCOUNT, (
        f"{describe(response)}; expected the account as sent, {NEW_ACCOUNT}"
    )
    location = response.headers.get("location")
    expected_path = f"{ACCOUNTS}/{created['id']}"
    assert location, f"{describe(response)}; expected a Location header with the account's URL, {expected_path}"
    url = urljoin(str(response.request.url), location)
    assert urlsplit(url).path == expected_path, (
        f"{describe(response)}; expected Location to name {expected_path}, got {location!r}"
    )
    fetched = await client.get(url)
    assert expect_json(fetched, 200) == created, f"{describe(fetched)}; expected the created account {created}"


@pytest.mark.exercise("5.1", points=1)
async def test_put_replaces_the_whole_account(client: AsyncClient) -> None:
    """PUT /api/v1/accounts/2 with a whole account (number, owner, currency) answers 200 with account 2 as sent,
    and GET shows the replacement; a PUT body that leaves a field out is refused with 422 and changes nothing."""
    replacement = {"number": "ACC-2002", "owner": "James Okafor-Reid", "currency": "GBP"}
    response = await client.put(f"{ACCOUNTS}/2", json=replacement)
    replaced = expect_json(response, 200, "with the replaced account")
    assert replaced == {**replacement, "id": 2}, f"{describe(response)}; expected {({**replacement, 'id': 2})}"
    fetched = await client.get(f"{ACCOUNTS}/2")
    assert expect_json(fetched, 200) == replaced, f"{describe(fetched)}; expected the replacement {replaced}"
    partial = await client.put(f"{ACCOUNTS}/2", json={"owner": "Nobody"})
    expect_status(partial, 422, "(PUT sends the whole record; a missing field is invalid)")
    after = await client.get(f"{ACCOUNTS}/2")
    assert expect_json(after, 200) == replaced, f"{describe(after)}; expected account 2 unchanged, {replaced}"


@pytest.mark.exercise("5.1", points=1)
async def test_put_never_creates(client: AsyncClient) -> None:
    """PUT /api/v1/accounts/999 answers 404 with a `detail` naming 999, and creates nothing:
    GET /api/v1/accounts/999 is still 404 afterwards."""
    response = await client.put(f"{ACCOUNTS}/999", json={**NEW_ACCOUNT, "number": "ACC-1999"})
    detail = expect_error(response, 404, "PUT replaces an account that exists; it does not create one")
    assert "999" in detail, f"{describe(response)}; expected the detail to name 999"
    expect_error(await client.get(f"{ACCOUNTS}/999"), 404, "the PUT must not have created account 999")


# --- 5.2: pages with a total, and bounds ------------------------------------------------------------


@pytest.mark.exercise("5.2", points=2)
async def test_lists_are_pages_with_a_total(client: AsyncClient) -> None:
    """GET /api/v1/operations?limit=2&offset=2 answers {"items": [...], "total": N, "limit": 2, "offset": 2}
    with the 3rd and 4th operations in id order and `total` counting all operations; an offset at the end gives
    no items and the same total; without parameters, limit is 20 and offset 0. GET /api/v1/accounts pages alike."""
    for collection in (OPERATIONS, ACCOUNTS):
        response = await client.get(collection, params={"limit": 100})
        everything = expect_page(response, 100, 0)
        items = everything["items"]
        assert len(items) >= 3 and ids(items) == sorted(ids(items)), (
            f"{describe(response)}; expected all the seed records, in id order"
        )
        assert everything["total"] == len(items), (
            f"{describe(response)}; expected total {len(items)}, the number of records"
        )
        response = await client.get(collection, params={"limit": 2, "offset": 2})
        page = expect_page(response, 2, 2)
        assert ids(page["items"]) == ids(items[2:4]), (
            f"{describe(response)}; expected the records {ids(items[2:4])}, got {ids(page['items'])}"
        )
        assert page["total"] == len(items), f"{describe(response)}; expected total {len(items)}, for all pages"
        response = await client.get(collection, params={"offset": len(items)})
        past = expect_page(response, 20, len(items))
        assert past["items"] == [] and past["total"] == len(items), (
            f"{describe(response)}; expected no items and total {len(items)}"
        )
        expect_page(await client.get(collection), 20, 0)


@pytest.mark.exercise("5.2", points=1)
async def test_total_counts_the_filtered_records(client: AsyncClient) -> None:
    """With a filter, `total` counts the matching records on all pages, not the ones on this page:
    GET /api/v1/operations?account_id=1&limit=1 answers the first operation of account 1, with the number of
    account 1's operations as `total`; ?side=sell&limit=1 likewise."""
    everything = (await all_of(client, OPERATIONS))["items"]
    for name, value in (("account_id", 1), ("side", "sell")):
        matching = [operation for operation in everything if operation.get(name) == value]
        response = await client.get(OPERATIONS, params={name: value, "limit": 1})
        page = expect_page(response, 1, 0)
        assert ids(page["items"]) == ids(matching[:1]), (
            f"{describe(response)}; expected only operation {ids(matching[:1])}: filter, order by id, then cut"
        )
        assert page["total"] == len(matching), (
            f"{describe(response)}; expected total {len(matching)}, the operations with {name}={value}"
        )


@pytest.mark.exercise("5.2", points=1)
async def test_page_bounds_are_validated(client: AsyncClient) -> None:
    """`limit` is 1 to 100 and `offset` 0 or more: limit=0, limit=101, limit=ten and offset=-1 each answer 422
    naming the parameter, on GET /api/v1/operations and GET /api/v1/accounts; limit=1 and limit=100 are accepted."""
    for collection in (OPERATIONS, ACCOUNTS):
        for limit in (1, 100):
            expect_page(await client.get(collection, params={"limit": limit}), limit, 0)
        for name, value in (("limit", "0"), ("limit", "101"), ("limit", "ten"), ("offset", "-1")):
            response = await client.get(collection, params={name: value})
            expect_status(response, 422, f"(a {name} out of bounds is invalid input)")
            assert name in response.text, f"{describe(response)}; expected the 422 detail to name `{name}`"


# --- 5.3: database errors as API errors, in one shape -------------------------------------------------


@pytest.mark.exercise("5.3", points=2)
async def test_a_taken_unique_value_is_409(client: AsyncClient) -> None:
    """PATCH /api/v1/accounts/2 with the `number` of account 1 answers 409 with exactly {"detail": "<text>"},
    in the API's own words (no driver text), and account 2 keeps its number. Other errors have the same shape:
    GET /api/v1/accounts/999 (404) and DELETE /api/v1/accounts/1, an account with operations (409)."""
    first = expect_json(await client.get(f"{ACCOUNTS}/1"), 200)
    second = expect_json(await client.get(f"{ACCOUNTS}/2"), 200)
    response = await client.patch(f"{ACCOUNTS}/2", json={"number": first["number"]})
    expect_error(response, 409, "the account number is taken")
    after = await client.get(f"{ACCOUNTS}/2")
    assert expect_json(after, 200) == second, f"{describe(after)}; expected account 2 unchanged, {second}"
    expect_error(await client.get(f"{ACCOUNTS}/999"), 404)
    expect_error(await client.delete(f"{ACCOUNTS}/1"), 409, "account 1 has operations")


@pytest.mark.exercise("5.3", points=2)
async def test_an_unreachable_database_is_503(lab: LabFactory, tmp_path: Path) -> None:
    """When the database does not answer, the app still starts, and GET /api/v1/accounts/1,
    GET /api/v1/operations/1, PATCH /api/v1/accounts/1 and POST /api/v1/operations answer 503 with exactly
    {"detail": "<text>"}, never a 500 or driver text: for TRADING_DATABASE_URL naming a SQLite file in a missing
    folder, and a PostgreSQL server that is not there."""
    unreachable = {
        "a SQLite file in a missing folder": f"sqlite:///{tmp_path / 'missing' / 'trading.db'}",
        "no PostgreSQL server on port 1": "postgresql+psycopg://postgres@127.0.0.1:1/trading",
    }
    for label, url in unreachable.items():
        async with lab(env={"TRADING_DATABASE_URL": url}) as client:
            for response in (
                await client.get(f"{ACCOUNTS}/1"),
                await client.get(f"{OPERATIONS}/1"),
                await client.patch(f"{ACCOUNTS}/1", json={"owner": "Maria Bianchi"}),
                await client.post(OPERATIONS, json=NEW_OPERATION),
            ):
                expect_error(response, 503, f"the database does not answer: {label}")


# --- 5.4: HEAD, and errors in the OpenAPI schema ------------------------------------------------------


@pytest.mark.exercise("5.4", points=1)
async def test_head_answers_like_get_without_a_body(client: AsyncClient) -> None:
    """HEAD /api/v1/accounts/1 answers 200 with no body and the headers GET would send: the same content-type,
    and a content-length, if any, equal to the length of GET's body; HEAD /api/v1/accounts/999 answers 404
    (not 405, and not a made-up status such as 440)."""
    get = await client.get(f"{ACCOUNTS}/1")
    expect_json(get, 200)
    head = await client.head(f"{ACCOUNTS}/1")
    expect_status(head, 200, "(HEAD answers as GET would, without the body)")
    assert head.content == b"", f"{describe(head)}; expected no body"
    assert head.headers.get("content-type") == get.headers.get("content-type"), (
        f"{describe(head)}; expected content-type {get.headers.get('content-type')!r} as GET sends,"
        f" got {head.headers.get('content-type')!r}"
    )
    length = head.headers.get("content-length")
    assert length is None or length == str(len(get.content)), (
        f"{describe(head)}; expected content-length {len(get.content)}, the length of GET's body, or none;"
        f" got {length}"
    )
    expect_status(await client.head(f"{ACCOUNTS}/999"), 404, "(no such account)")


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a ``$ref`` into ``components``."""
    while isinstance(schema, dict) and "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node
    return schema if isinstance(schema, dict) else {}


@pytest.mark.exercise("5.4", points=1)
async def test_error_responses_are_documented(client: AsyncClient) -> None:
    """/openapi.json documents the errors of the account routes, each as JSON whose schema has a `detail`
    property: 404 for GET, HEAD, PUT, PATCH and DELETE /api/v1/accounts/{account_id}, and 409 for
    POST /api/v1/accounts and for PUT and PATCH /api/v1/accounts/{account_id}."""
    spec = expect_json(await client.get("/openapi.json"), 200)
    one = f"{ACCOUNTS}/{{account_id}}"
    expected = [(one, method, "404") for method in ("get", "head", "put", "patch", "delete")]
    expected += [(ACCOUNTS, "post", "409"), (one, "put", "409"), (one, "patch", "409")]
    paths = spec.get("paths", {})
    for path, method, code in expected:
        operation = paths.get(path, {}).get(method)
        assert operation, f"GET /openapi.json → expected an operation {method.upper()} {path}, found none"
        documented = operation.get("responses", {}).get(code)
        assert documented, (
            f"GET /openapi.json → expected {method.upper()} {path} to document a {code} response;"
            f" it documents {sorted(operation.get('responses', {}))}"
        )
        schema = resolve(spec, documented.get("content", {}).get("application/json", {}).get("schema", {}))
        assert "detail" in schema.get("properties", {}), (
            f"GET /openapi.json → expected the {code} response of {method.upper()} {path} to have a JSON schema"
            f" with a `detail` property, got {documented}"
        )
