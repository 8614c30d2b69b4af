"""Graded checks for lesson 05: REST design, errors and structure."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import anyio.to_thread
import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from course.pytest_plugin import LabFactory
from course.resources import get_resources

from .expect import describe, expect_json, expect_status, isolated_settings

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
# What a 500 on POST most often means once create_account returns something.
NOT_AN_ACCOUNT = (
    "; if the app raised ResponseValidationError, the answer did not fit AccountRead: return the stored account,"
    " which has its `id` once the service has flushed it"
)
MAX_LIMIT = 100
NEXT_ACCOUNT_ID = 4  # every app starts with accounts 1 to 3
MAX_OFFSET = 2**31 - 1  # the largest id: no table holds more records, so no client needs to skip more

hermetic_settings = isolated_settings("TRADING_")


# --- driver text: what a database error would leak ------------------------------------------------
# A message of the API's own may well say "database", "connection failed" or "unable to open": that is
# English. What must not reach a client is what would really leak from the failure: the driver's own
# message for it, the SQL, the names of tables, columns and constraints, and the database URL. The checks
# provoke the same failures themselves, with the same drivers, and look for those texts in the answer.

COLUMNS = {
    "accounts": ("id", "number", "owner", "currency"),
    "operations": ("id", "account_id", "ticker", "side", "quantity", "price", "trade_date"),
}
# SQL as SQLAlchemy and the drivers show it: upper-case keywords, or SQLAlchemy's "[SQL: ...]".
SQL = re.compile(r"\[SQL: |\b(?:SELECT|INSERT INTO|UPDATE|DELETE FROM)\b.*\b(?:FROM|VALUES|SET|WHERE)\b")
# Names in a driver message: "accounts_number_key", "127.0.0.1", accounts.number.
NAMES = re.compile(r'"([^"\s]+)"|\b([A-Za-z_]\w*\.[A-Za-z_]\w*)\b')
LINK_HOST = re.compile(r"https?://([^/\s)]+)")


def normal(text: str) -> str:
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class DriverText:
    """The texts a database failure would leak into an answer that copied it."""

    fragments: frozenset[str]

    def leaked_in(self, message: str) -> str | None:
        """The longest piece of driver text found in ``message``, if any."""
        said = normal(message)
        found = [fragment for fragment in self.fragments if fragment in said]
        if found:
            return max(found, key=len)
        sql = SQL.search(message)
        return sql.group() if sql else None

    def __or__(self, other: "DriverText") -> "DriverText":
        return DriverText(self.fragments | other.fragments)


def table_and_column_names() -> DriverText:
    return DriverText(frozenset(f"{table}.{column}" for table, columns in COLUMNS.items() for column in columns))


def driver_text_of(error: DBAPIError) -> DriverText:
    """What ``error`` says: the driver's message line by line, the names in it, the exception and the SQL."""
    said = str(error.orig)
    fragments = {line for line in map(normal, said.splitlines()) if line}
    fragments |= {normal(quoted or dotted) for quoted, dotted in NAMES.findall(said)}
    driver_error = type(error.orig)
    fragments |= {normal(type(error).__name__), normal(driver_error.__name__), driver_error.__module__.split(".")[0]}
    fragments |= {normal(host) for host in LINK_HOST.findall(str(error))}
    if error.statement:
        fragments.add(normal(error.statement))
    return DriverText(frozenset(fragments))


def url_text(url: str) -> DriverText:
    """A database URL, its host and its file: an answer has no business naming them."""
    parsed = make_url(url)
    parts = {url, parsed.render_as_string(hide_password=True), parsed.host or ""}
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        parts.add(parsed.database)
    return DriverText(frozenset(normal(part) for part in parts if part))


def provoke(url: str, failure: Callable[[Connection], object]) -> DriverText:
    """Run ``failure`` on the database at ``url`` and collect the driver text of the error it raises."""
    connect_args = {} if make_url(url).get_backend_name() == "sqlite" else {"connect_timeout": 2}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.begin() as connection:
            failure(connection)
    except DBAPIError as error:
        return driver_text_of(error)
    finally:
        engine.dispose()
    raise AssertionError(f"the check expected the database at {url} to refuse; it did not")


def take_a_taken_number(connection: Connection) -> None:
    """What PATCH does to the accounts table when account 2 asks for the number of account 1."""
    accounts = Table(
        "accounts", MetaData(), Column("id", Integer, primary_key=True), Column("number", String(8), unique=True)
    )
    accounts.create(connection)
    connection.execute(insert(accounts), [{"id": 1, "number": "ACC-1001"}, {"id": 2, "number": "ACC-1002"}])
    connection.execute(update(accounts).where(accounts.c.id == 2).values(number="ACC-1001"))


def reach_the_database(connection: Connection) -> None:
    connection.execute(text("SELECT 1"))


async def taken_number_text() -> DriverText:
    """The driver text of a broken unique constraint, from SQLite and, in services mode, PostgreSQL."""
    urls = ["sqlite://"]
    if get_resources().services:
        urls.append(await anyio.to_thread.run_sync(get_resources().new_database, "driver-text"))
    found = table_and_column_names()
    for url in urls:
        found |= await anyio.to_thread.run_sync(provoke, url, take_a_taken_number)
    return found


async def unreachable_text(url: str) -> DriverText:
    """The driver text of connecting to ``url``, a database that does not answer, and the URL itself."""
    driver = await anyio.to_thread.run_sync(provoke, url, reach_the_database)
    return table_and_column_names() | driver | url_text(url)


def expect_error(response: httpx.Response, status: int, what: str = "", driver: DriverText | None = None) -> str:
    """An error answer: the status, and a body that is exactly ``{"detail": "<text>"}``. Returns the text.

    With ``driver``, the text must be the API's own: none of the driver text of the failure.
    """
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
    if driver is not None:
        leaked = driver.leaked_in(detail)
        assert leaked is None, (
            f"{describe(response)}; expected a message in the API's own words, without database details (what the"
            f" driver said, SQL, table, column or constraint names, the URL); it contains {leaked!r}"
        )
    return detail


def expect_retry_after(response: httpx.Response) -> None:
    """A ``Retry-After`` header: a number of seconds, or an HTTP date."""
    value = response.headers.get("retry-after")
    assert value is not None, f"{describe(response)}; expected a Retry-After header saying when to try again"
    if value.strip().isdigit():
        return
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{describe(response)}; expected Retry-After to be a number of seconds, such as 30, or an HTTP date,"
            f" got {value!r}"
        ) from None


async def all_of(client: AsyncClient, collection: str, **params: Any) -> dict[str, Any]:
    """The first page of a collection with the largest limit, as JSON (the starting records fit on it)."""
    return expect_json(await client.get(collection, params={"limit": MAX_LIMIT, **params}), 200)


def ids(items: Iterable[dict[str, Any]]) -> list[Any]:
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
    created = expect_json(
        response, 201, "with the new account" + (NOT_AN_ACCOUNT if response.status_code == 500 else "")
    )
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
    and GET shows the replacement, whether the number stays the same or changes; a PUT body that leaves a field
    out is refused with 422 and changes nothing."""
    for replacement in (
        {"number": "ACC-1002", "owner": "James Okafor-Reid", "currency": "GBP"},  # the account keeps its number
        {"number": "ACC-2002", "owner": "Jim Okafor", "currency": "USD"},
    ):
        response = await client.put(f"{ACCOUNTS}/2", json=replacement)
        replaced = expect_json(response, 200, "with the replaced account")
        assert replaced == {**replacement, "id": 2}, f"{describe(response)}; expected { ({**replacement, 'id': 2}) }"
        fetched = await client.get(f"{ACCOUNTS}/2")
        assert expect_json(fetched, 200) == replaced, f"{describe(fetched)}; expected the replacement {replaced}"
    partial = await client.put(f"{ACCOUNTS}/2", json={"owner": "Nobody"})
    expect_status(partial, 422, "(PUT sends the whole record; a missing field is invalid)")
    after = await client.get(f"{ACCOUNTS}/2")
    assert expect_json(after, 200) == replaced, f"{describe(after)}; expected account 2 unchanged, {replaced}"


@pytest.mark.exercise("5.1", points=1)
async def test_put_never_creates(client: AsyncClient) -> None:
    """PUT /api/v1/accounts/999 answers 404 with a `detail` naming 999, and creates nothing: GET
    /api/v1/accounts/999 is still 404 afterwards, and so is GET /api/v1/accounts/4, the id a new account gets."""
    response = await client.put(f"{ACCOUNTS}/999", json={**NEW_ACCOUNT, "number": "ACC-1999"})
    detail = expect_error(response, 404, "PUT replaces an account that exists; it does not create one")
    assert re.search(r"\b999\b", detail), f"{describe(response)}; expected the detail to name 999"
    for account_id in (999, NEXT_ACCOUNT_ID):
        expect_error(await client.get(f"{ACCOUNTS}/{account_id}"), 404, "the PUT must not have created an account")


# --- 5.2: pages with a total, and bounds ------------------------------------------------------------


@pytest.mark.exercise("5.2", points=2)
async def test_lists_are_pages_with_a_total(client: AsyncClient) -> None:
    """GET /api/v1/operations?limit=2&offset=2 answers {"items": [...], "total": N, "limit": 2, "offset": 2}
    with the 3rd and 4th operations in id order and `total` counting all operations; offset=N-1 gives the last
    operation only, and offset=N no items, with the same total; without parameters, limit is 20 and offset 0.
    GET /api/v1/accounts pages alike."""
    for collection in (OPERATIONS, ACCOUNTS):
        response = await client.get(collection, params={"limit": MAX_LIMIT})
        everything = expect_page(response, MAX_LIMIT, 0)
        items = everything["items"]
        assert len(items) >= 3 and ids(items) == sorted(ids(items)), (
            f"{describe(response)}; expected all the starting records, in id order"
        )
        total = len(items)
        assert everything["total"] == total, f"{describe(response)}; expected total {total}, the number of records"
        response = await client.get(collection, params={"limit": 2, "offset": 2})
        page = expect_page(response, 2, 2)
        assert ids(page["items"]) == ids(items[2:4]), (
            f"{describe(response)}; expected the records {ids(items[2:4])}, got {ids(page['items'])}"
        )
        assert page["total"] == total, f"{describe(response)}; expected total {total}, for all pages"
        for offset in (total - 1, total):
            response = await client.get(collection, params={"offset": offset})
            tail = expect_page(response, 20, offset)
            assert ids(tail["items"]) == ids(items[offset:]) and tail["total"] == total, (
                f"{describe(response)}; expected the records {ids(items[offset:])} and total {total},"
                f" got {ids(tail['items'])} and total {tail['total']}"
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
    """`limit` is 1 to 100 and `offset` 0 to 2147483647 (2**31 - 1), on GET /api/v1/operations and
    GET /api/v1/accounts: limit=1, limit=100, offset=0 and offset=2147483647 are accepted (the last gives no
    items); limit=0, limit=101, offset=-1, offset=2147483648, offset=10000000000000000000, and a limit or offset
    that is not a number each answer 422 naming the parameter."""
    for collection in (OPERATIONS, ACCOUNTS):
        for limit in (1, MAX_LIMIT):
            expect_page(await client.get(collection, params={"limit": limit}), limit, 0)
        for offset in (0, MAX_OFFSET):
            response = await client.get(collection, params={"offset": offset})
            page = expect_page(response, 20, offset)
            assert offset == 0 or page["items"] == [], f"{describe(response)}; expected no items so far past the end"
        refused = {
            "limit": ("0", str(MAX_LIMIT + 1), "ten"),
            "offset": ("-1", str(MAX_OFFSET + 1), str(10**19), "ten"),
        }
        for name, values in refused.items():
            for value in values:
                response = await client.get(collection, params={name: value})
                expect_status(response, 422, f"({name}={value} is out of bounds, so it is invalid input)")
                assert name in response.text, f"{describe(response)}; expected the 422 detail to name `{name}`"


# --- 5.3: database errors as API errors, in one shape -------------------------------------------------


@pytest.mark.exercise("5.3", points=2)
async def test_a_taken_unique_value_is_409(client: AsyncClient) -> None:
    """PATCH /api/v1/accounts/2 with the `number` of account 1 answers 409 with exactly {"detail": "<text>"} in the
    API's own words: nothing the database driver said about the broken constraint, no SQL, no table, column or
    constraint name. Account 2 keeps its number. Other errors have the same shape: GET /api/v1/accounts/999 (404)
    and DELETE /api/v1/accounts/1, an account with operations (409)."""
    driver = await taken_number_text()
    first = expect_json(await client.get(f"{ACCOUNTS}/1"), 200)
    second = expect_json(await client.get(f"{ACCOUNTS}/2"), 200)
    response = await client.patch(f"{ACCOUNTS}/2", json={"number": first["number"]})
    expect_error(response, 409, "the account number is taken", driver)
    after = await client.get(f"{ACCOUNTS}/2")
    assert expect_json(after, 200) == second, f"{describe(after)}; expected account 2 unchanged, {second}"
    expect_error(await client.get(f"{ACCOUNTS}/999"), 404)
    expect_error(await client.delete(f"{ACCOUNTS}/1"), 409, "account 1 has operations")


@pytest.mark.exercise("5.3", points=2)
async def test_an_unreachable_database_is_503(lab: LabFactory, tmp_path: Path) -> None:
    """When the database does not answer, the app still starts, and GET /api/v1/accounts/1,
    GET /api/v1/operations/1, PATCH /api/v1/accounts/1 and POST /api/v1/operations answer 503 with exactly
    {"detail": "<text>"} in the API's own words (nothing the driver said, no URL, host or file name) and a
    `Retry-After` header (seconds, or an HTTP date); never a 500. Both for TRADING_DATABASE_URL naming a SQLite
    file in a missing folder and for a PostgreSQL server that is not there."""
    unreachable = {
        "a SQLite file in a missing folder": f"sqlite:///{tmp_path / 'missing' / 'trading.db'}",
        "no PostgreSQL server on port 1": "postgresql+psycopg://postgres@127.0.0.1:1/trading",
    }
    for label, url in unreachable.items():
        driver = await unreachable_text(url)
        async with lab(env={"TRADING_DATABASE_URL": url}) as client:
            for response in (
                await client.get(f"{ACCOUNTS}/1"),
                await client.get(f"{OPERATIONS}/1"),
                await client.patch(f"{ACCOUNTS}/1", json={"owner": "Maria Bianchi"}),
                await client.post(OPERATIONS, json=NEW_OPERATION),
            ):
                expect_error(response, 503, f"the database does not answer: {label}", driver)
                expect_retry_after(response)


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
        f"{describe(head)}; expected content-length {len(get.content)}, the length of GET's body, or none; got {length}"
    )
    missing = await client.head(f"{ACCOUNTS}/999")
    expect_status(missing, 404, "(no such account)")
    assert missing.content == b"", f"{describe(missing)}; expected no body"


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
    """/openapi.json documents the errors of the account routes, each as JSON whose schema has a string property
    `detail`: 404 for GET, HEAD, PUT, PATCH and DELETE /api/v1/accounts/{account_id}, and 409 for
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
        detail = resolve(spec, schema.get("properties", {}).get("detail", {}))
        assert detail.get("type") == "string", (
            f"GET /openapi.json → expected the {code} response of {method.upper()} {path} to have a JSON schema"
            f" with a string property `detail`, got {documented}"
        )
