"""Graded checks for lesson 12: middleware, CORS, trusted hosts, GZip and security headers.

Every check talks to the app over HTTP, as a browser or a proxy would: it sends ``Origin``,
``Host``, ``Accept-Encoding``, ``X-Request-ID`` or ``X-Forwarded-Proto`` headers and reads the
headers that come back. Whether a browser would let a page read a response is judged the
way the Fetch standard's CORS check judges it (``browser_allows`` below), so any correct
configuration passes, whatever else it sends. The access log is read from outside: the check
gives the app a file in a directory it reads while the app runs (``TRADING_ACCESS_LOG``).

``https://testserver/...`` reaches the app as an https request, as behind a TLS proxy.
"""

import json
import math
import re
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import anyio
import httpx
import pytest
from httpx import AsyncClient

from course.harness import SharedDirectory
from course.pytest_plugin import LabFactory

from .expect import describe, expect_json, expect_status, isolated_settings

hermetic_settings = isolated_settings("TRADING_")

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
HTTPS = "https://testserver"
PAGE = "https://desk.example.com"  # the desk's web page, an origin the checks allow
OTHER_PAGE = "http://localhost:5173"  # a second allowed origin
ACCESS_LOG = "access.log"
NEW_OPERATION = {"symbol": "AAPL", "side": "buy", "quantity": 3, "price": "190.00"}


def trading(lab: LabFactory, **env: str) -> AbstractAsyncContextManager[AsyncClient]:
    """The lab with a cheap Argon2 (signing in is not what these checks are about), and ``env``."""
    return lab(env={"TRADING_FAST_PASSWORD_HASH": "true", **env})


@pytest.fixture
async def client(lab: LabFactory) -> AsyncIterator[AsyncClient]:
    """A fresh app as `trading` opens it (this module's own `client`)."""
    async with trading(lab) as opened:
        yield opened


def origins(*listed: str) -> str:
    return json.dumps(list(listed))


def header(response: httpx.Response, name: str) -> str | None:
    return response.headers.get(name)


def values(response: httpx.Response, name: str) -> list[str]:
    """The comma-separated items of a header (all its fields), as a browser splits them."""
    return [item.strip() for field in response.headers.get_list(name) for item in field.split(",") if item.strip()]


# --- how a browser judges CORS (the Fetch standard's CORS check, for a request with credentials) ------------

SAFELISTED_METHODS = {"GET", "HEAD", "POST"}


def browser_refuses(response: httpx.Response, origin: str) -> str | None:
    """Why a browser would refuse a page of ``origin`` this response, sent with credentials; None if it allows it."""
    allowed_origin = header(response, "access-control-allow-origin")
    if allowed_origin != origin:
        return f"Access-Control-Allow-Origin is {allowed_origin!r}, not the page's origin {origin!r}"
    if header(response, "access-control-allow-credentials") != "true":
        return "Access-Control-Allow-Credentials is not 'true': the cookie may not go along"
    return None


def preflight_refuses(response: httpx.Response, origin: str, method: str, headers: list[str]) -> str | None:
    """Why a browser would not send ``method`` with ``headers`` after this preflight answer; None if it would."""
    if not 200 <= response.status_code < 300:
        return f"the preflight answered {response.status_code}, not a 2xx"
    if (refused := browser_refuses(response, origin)) is not None:
        return refused
    # With credentials, "*" is no wildcard: each method and header must be named.
    methods = {item.upper() for item in values(response, "access-control-allow-methods")}
    if method not in SAFELISTED_METHODS and method not in methods:
        return f"{method} is not in Access-Control-Allow-Methods {sorted(methods)}"
    allowed = {item.lower() for item in values(response, "access-control-allow-headers")}
    missing = [name for name in headers if name.lower() not in allowed]
    if missing:
        return f"{', '.join(missing)} not in Access-Control-Allow-Headers {sorted(allowed)}"
    return None


async def preflight(client: AsyncClient, path: str, origin: str, method: str, headers: list[str]) -> httpx.Response:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = ",".join(name.lower() for name in headers)
    return await client.options(path, headers=asked)


async def expect_allowed(client: AsyncClient, origin: str, method: str, headers: list[str]) -> None:
    response = await preflight(client, "/operations/1", origin, method, headers)
    refused = preflight_refuses(response, origin, method, headers)
    assert refused is None, f"{describe(response)}; expected the browser to allow {method} from {origin}: {refused}"


def expect_vary_origin(response: httpx.Response) -> None:
    varies = {item.lower() for item in values(response, "vary")}
    assert "origin" in varies or "*" in varies, (
        f"{describe(response)}; expected `Vary: Origin`: the answer depends on the Origin, so a cache must not"
        f" give it to another page (Vary: {header(response, 'vary')!r})"
    )


# --- 12.1: a request id, the process time and an access log -------------------------------------------------


def fresh_id(response: httpx.Response, sent: str | None) -> str:
    """The response's X-Request-ID, which must be well-formed and, when ``sent`` is given, not it."""
    got = header(response, "x-request-id")
    assert got is not None and REQUEST_ID.fullmatch(got), (
        f"{describe(response)}; expected an X-Request-ID of 8 to 64 letters, digits, '.', '-' or '_', got {got!r}"
    )
    assert got != sent, f"{describe(response)}; expected the malformed X-Request-ID {sent!r} replaced by a new one"
    return got


@pytest.mark.exercise("12.1", points=2)
async def test_a_well_formed_request_id_is_kept_and_any_other_replaced(client: AsyncClient) -> None:
    """A request with a well-formed X-Request-ID (8 to 64 letters, digits, '.', '-' or '_') gets the same id back in
    X-Request-ID, at both ends of the length (8 and 64). A malformed one (7 or 65 characters, 1,000 characters, a
    space, quotes or '<') is replaced by a new well-formed id; a request without one gets a new one, another for
    every request."""
    for kept in ("Ab.9-x_Z", "req-" + "0123456789abcdef" * 3 + "abcdef012345", "5f0c3a8e-2b7d-4c1e-9a6f-0d3b8e7c1a24"):
        response = await client.get("/operations", headers={"X-Request-ID": kept})
        expect_status(response, 200)
        assert header(response, "x-request-id") == kept, (
            f"{describe(response)}; expected the well-formed X-Request-ID {kept!r} ({len(kept)} characters) back,"
            f" got {header(response, 'x-request-id')!r}"
        )
    for malformed in ("Ab.9-x_", "r" * 65, "x" * 1000, "two words", 'quo"ted-id', "<script>alert(1)</script>"):
        fresh_id(await client.get("/operations", headers={"X-Request-ID": malformed}), malformed)
    first = fresh_id(await client.get("/operations"), None)
    second = fresh_id(await client.get("/operations"), None)
    assert first != second, f"GET /operations twice without X-Request-ID → the same id {first!r}; expected two ids"


def expect_context_headers(response: httpx.Response, what: str) -> None:
    request_id, took = header(response, "x-request-id"), header(response, "x-process-time")
    assert request_id is not None and REQUEST_ID.fullmatch(request_id), (
        f"{describe(response)}; expected a well-formed X-Request-ID on {what} too, got {request_id!r}."
        " Is the middleware that sets it the outermost (added last)?"
    )
    try:
        seconds = float(took or "")
    except ValueError:
        seconds = math.nan
    assert math.isfinite(seconds) and seconds >= 0, (
        f"{describe(response)}; expected X-Process-Time, a number of seconds, on {what} too, got {took!r}"
    )


@pytest.mark.exercise("12.1", points=2)
async def test_every_response_carries_the_request_id_and_process_time(lab: LabFactory) -> None:
    """X-Request-ID and X-Process-Time (seconds, a decimal number) are on every response: a 200, a 404, a 422, the
    answer to a Host not in TRADING_ALLOWED_HOSTS, and the answers to CORS preflights, allowed or refused, which
    other middleware gives: the middleware that sets them is the outermost. With TRADING_QUOTE_SECONDS=0.3,
    GET /quotes/AAPL takes at least 0.3 s, and its X-Process-Time says so (0.3 to 1.3)."""
    env = {
        "TRADING_ALLOWED_HOSTS": '["testserver"]',
        "TRADING_CORS_ORIGINS": origins(PAGE),
        "TRADING_QUOTE_SECONDS": "0.3",
    }
    async with trading(lab, **env) as client:
        answers = {
            "a 200": await client.get("/operations"),
            "a 404": await client.get("/operations/999"),
            "a 422": await client.post("/operations", json={"symbol": "aapl"}),
            "the answer to a Host not allowed": await client.get("/operations", headers={"Host": "evil.example"}),
            "an allowed preflight": await preflight(client, "/operations", PAGE, "POST", ["Content-Type"]),
            "a refused preflight": await preflight(client, "/operations", "https://evil.example", "POST", []),
        }
        for what, response in answers.items():
            expect_context_headers(response, what)
        response = await client.get("/quotes/AAPL")
        expect_json(response, 200)
        took = float(header(response, "x-process-time") or "nan")
        assert 0.3 <= took <= 1.3, (
            f"{describe(response)}; the quote takes 0.3 s (TRADING_QUOTE_SECONDS), so expected an X-Process-Time"
            f" of 0.3 to 1.3 seconds, got {took!r}"
        )


async def log_lines(shared: SharedDirectory, expected: int, within: float = 2.0) -> list[str]:
    """The access log's lines once it has ``expected`` of them (a server may write a line just after answering)."""
    deadline = time.monotonic() + within
    while True:
        text = shared.files().get(ACCESS_LOG, b"").decode("utf-8", errors="replace")
        lines = text.splitlines()
        if len(lines) >= expected or time.monotonic() > deadline:
            return lines
        await anyio.sleep(0.02)


@pytest.mark.exercise("12.1", points=2)
async def test_each_request_writes_one_json_access_log_line(lab: LabFactory, shared_directory: SharedDirectory) -> None:
    """With TRADING_ACCESS_LOG naming a file, each request appends exactly one line to it, in the order of the
    requests: a JSON object with `method`, `path` (without the query string), `status` (a number), `duration`
    (seconds, a number: at least 0.2 for GET /quotes/AAPL with TRADING_QUOTE_SECONDS=0.2) and `request_id` (the
    response's X-Request-ID). A 404, a 422 and the 400 for a Host not in TRADING_ALLOWED_HOSTS are logged too."""
    env = {
        "TRADING_ACCESS_LOG": f"{shared_directory.path}/{ACCESS_LOG}",
        "TRADING_ALLOWED_HOSTS": '["testserver"]',
        "TRADING_QUOTE_SECONDS": "0.2",
    }
    async with trading(lab, **env) as client:
        responses = [
            (await client.get("/operations?limit=2"), "/operations", 200),
            (await client.get("/operations/999"), "/operations/999", 404),
            (await client.post("/operations?dry=1", json={"symbol": "?"}), "/operations", 422),
            (await client.get("/quotes/AAPL"), "/quotes/AAPL", 200),
            (await client.get("/operations", headers={"Host": "evil.example"}), "/operations", 400),
        ]
        lines = await log_lines(shared_directory, len(responses))
    assert len(lines) == len(responses), (
        f"expected {len(responses)} lines in TRADING_ACCESS_LOG, one per request, found {len(lines)}: {lines[:8]}"
    )
    for (response, path, status), line in zip(responses, lines, strict=True):
        try:
            entry = json.loads(line)
        except ValueError:
            raise AssertionError(f"access log line {line!r}: expected one JSON object per line") from None
        assert isinstance(entry, dict), f"access log line {line!r}: expected a JSON object"
        expected = {
            "method": response.request.method,
            "path": path,
            "status": status,
            "request_id": header(response, "x-request-id"),
        }
        got = {key: entry.get(key) for key in expected}
        assert got == expected, f"{describe(response)}; expected the log line to hold {expected}, got {line}"
        duration = entry.get("duration")
        least = 0.2 if path.startswith("/quotes") else 0.0
        assert isinstance(duration, int | float) and not isinstance(duration, bool) and least <= duration < 5, (
            f"{describe(response)}; expected a `duration` in seconds (at least {least:g}) in the log line, got {line}"
        )


# --- 12.2: CORS from settings ------------------------------------------------------------------------------------


@pytest.mark.exercise("12.2", points=2)
async def test_an_allowed_origin_may_call_with_credentials(lab: LabFactory) -> None:
    """With TRADING_CORS_ORIGINS=["https://desk.example.com", "http://localhost:5173"], a browser on either page
    may send, cookies included: GET, POST with a JSON body, and DELETE with an X-Request-ID header. The preflight
    answers 2xx with Access-Control-Allow-Origin naming the page's origin (never "*"),
    Access-Control-Allow-Credentials: true, the method and the headers; the response itself names the origin too,
    allows credentials, exposes X-Request-ID to the page's script, and says `Vary: Origin`."""
    async with trading(lab, TRADING_CORS_ORIGINS=origins(PAGE, OTHER_PAGE)) as client:
        for origin in (PAGE, OTHER_PAGE):
            for method, headers in (("POST", ["Content-Type"]), ("DELETE", ["X-Request-ID"]), ("GET", [])):
                await expect_allowed(client, origin, method, headers)
            response = await client.get("/operations/1", headers={"Origin": origin})
            expect_json(response, 200)
            refused = browser_refuses(response, origin)
            assert refused is None, f"{describe(response)}; expected the page of {origin} to read it: {refused}"
            exposed = {item.lower() for item in values(response, "access-control-expose-headers")}
            assert "x-request-id" in exposed, (
                f"{describe(response)}; expected Access-Control-Expose-Headers to name X-Request-ID, so that the"
                f" page's script can read it (got {header(response, 'access-control-expose-headers')!r})"
            )
            expect_vary_origin(response)


@pytest.mark.exercise("12.2", points=2)
async def test_an_origin_not_listed_gets_no_access(lab: LabFactory) -> None:
    """With TRADING_CORS_ORIGINS=["https://desk.example.com"], a page of any other origin (another site, another
    scheme, another port, a subdomain, the opaque origin "null") gets no Access-Control-Allow-Origin: not on
    its preflight, not on a GET. The answer to a GET still says `Vary: Origin`. The listed page itself is
    allowed: refusing every origin is no answer."""
    async with trading(lab, TRADING_CORS_ORIGINS=origins(PAGE)) as client:
        await expect_allowed(client, PAGE, "POST", ["Content-Type"])
        for origin in (
            "https://evil.example",
            "http://desk.example.com",
            "https://desk.example.com:8443",
            "https://eu.desk.example.com",
            "https://desk.example.com.evil.example",
            "null",
        ):
            response = await preflight(client, "/operations", origin, "POST", ["Content-Type"])
            allowed_origin = header(response, "access-control-allow-origin")
            assert allowed_origin is None, (
                f"{describe(response)}; expected no Access-Control-Allow-Origin for {origin}, got {allowed_origin!r}"
            )
            response = await client.get("/operations/1", headers={"Origin": origin})
            expect_json(response, 200, "(CORS is the browser's to enforce: the server answers, without CORS headers)")
            allowed_origin = header(response, "access-control-allow-origin")
            assert allowed_origin is None, (
                f"{describe(response)}; expected no Access-Control-Allow-Origin for {origin}, got {allowed_origin!r}"
            )
            expect_vary_origin(response)


@pytest.mark.exercise("12.2", points=1)
async def test_methods_and_headers_not_listed_are_refused(lab: LabFactory) -> None:
    """Even for an allowed origin, the preflight of a method the API does not offer to pages (PUT, PATCH) or of a
    header it does not allow (X-Debug, Authorization, X-Forwarded-For) leads a browser to refuse the request:
    the answer is not 2xx, or does not list the method or the header. DELETE with X-Request-ID, and POST with
    Content-Type, are allowed: refusing everything is no answer."""
    async with trading(lab, TRADING_CORS_ORIGINS=origins(PAGE)) as client:
        await expect_allowed(client, PAGE, "DELETE", ["X-Request-ID"])
        await expect_allowed(client, PAGE, "POST", ["Content-Type"])
        for method, headers in (
            ("PUT", ["Content-Type"]),
            ("PATCH", []),
            ("POST", ["X-Debug"]),
            ("GET", ["Authorization"]),
            ("DELETE", ["X-Request-ID", "X-Forwarded-For"]),
        ):
            response = await preflight(client, "/operations/1", PAGE, method, headers)
            assert preflight_refuses(response, PAGE, method, headers) is not None, (
                f"{describe(response)}; expected the browser to refuse {method} with {headers or 'no extra headers'}"
            )


async def start_failure(lab: LabFactory, env: dict[str, str]) -> str | None:
    """Why the lab did not start under ``env``; None if it started and answered."""
    try:
        async with trading(lab, **env) as client:
            response = await client.get("/operations")
    except Exception as error:  # in-process the factory's own error; under the grader, an AssertionError
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    expect_status(response, 200, f"(the app started with {env})")
    return None


@pytest.mark.exercise("12.2", points=1)
async def test_a_wildcard_or_a_malformed_origin_stops_the_app(lab: LabFactory) -> None:
    """TRADING_CORS_ORIGINS is a list of exact origins. The app refuses to start (creating it, or its start-up,
    raises) when the list holds "*" (any site could read answers with the user's cookies) or an entry that is no
    origin: with a path or a trailing slash ("https://desk.example.com/"), or without a scheme ("desk.example.com").
    A list of origins with and without ports starts."""
    for wrong in ("*", "https://desk.example.com/", "desk.example.com"):
        failure = await start_failure(lab, {"TRADING_CORS_ORIGINS": origins(PAGE, wrong)})
        assert failure is not None, (
            f"TRADING_CORS_ORIGINS={origins(PAGE, wrong)} → the app started; expected it to refuse {wrong!r}"
        )
    right = origins(PAGE, OTHER_PAGE, "http://127.0.0.1:8000")
    refused = await start_failure(lab, {"TRADING_CORS_ORIGINS": right})
    assert refused is None, f"TRADING_CORS_ORIGINS={right} → the app did not start: {refused}"


# --- 12.3: trusted hosts, GZip and security headers -------------------------------------------------------------


@pytest.mark.exercise("12.3", points=2)
async def test_only_the_configured_hosts_are_served(lab: LabFactory) -> None:
    """With TRADING_ALLOWED_HOSTS=["api.example.com", "*.desk.example"], a request whose Host is api.example.com
    (with or without a port) or a subdomain of desk.example is served; any other Host (evil.example,
    api.example.com.evil.example, desk.example itself, example.com) gets 400."""
    async with trading(lab, TRADING_ALLOWED_HOSTS='["api.example.com", "*.desk.example"]') as client:
        for host in ("api.example.com", "api.example.com:8443", "eu.desk.example", "a.b.desk.example"):
            expect_json(await client.get("/operations", headers={"Host": host}), 200, f"(Host {host} is allowed)")
        for host in ("evil.example", "api.example.com.evil.example", "desk.example", "example.com", "testserver"):
            response = await client.get("/operations", headers={"Host": host})
            expect_status(response, 400, f"(Host {host} is not in TRADING_ALLOWED_HOSTS)")


def encoding(response: httpx.Response) -> str:
    return header(response, "content-encoding") or "identity"


@pytest.mark.exercise("12.3", points=2)
async def test_responses_are_gzipped_from_the_minimum_size(lab: LabFactory) -> None:
    """A response body of at least TRADING_GZIP_MINIMUM_SIZE bytes is sent gzipped (Content-Encoding: gzip) to a
    client that accepts gzip, and as it is to one that does not; a body one byte shorter than the minimum is sent
    as it is. Checked at both ends with the body of GET /operations: a minimum equal to its size, and one more."""
    async with trading(lab, TRADING_GZIP_MINIMUM_SIZE="10000000") as client:
        plain = await client.get("/operations", headers={"Accept-Encoding": "identity"})
        expect_json(plain, 200)
    size = len(plain.content)
    async with trading(lab, TRADING_GZIP_MINIMUM_SIZE=str(size)) as client:
        zipped = await client.get("/operations", headers={"Accept-Encoding": "gzip"})
        assert encoding(zipped) == "gzip" and zipped.content == plain.content, (
            f"{describe(zipped)}; with TRADING_GZIP_MINIMUM_SIZE={size} and a body of {size} bytes, expected it"
            f" gzipped (Content-Encoding: {encoding(zipped)})"
        )
        refused = await client.get("/operations", headers={"Accept-Encoding": "identity"})
        assert encoding(refused) == "identity" and refused.content == plain.content, (
            f"{describe(refused)}; the client does not accept gzip: expected the body as it is"
            f" (Content-Encoding: {encoding(refused)})"
        )
    async with trading(lab, TRADING_GZIP_MINIMUM_SIZE=str(size + 1)) as client:
        small = await client.get("/operations", headers={"Accept-Encoding": "gzip"})
        assert encoding(small) == "identity" and small.content == plain.content, (
            f"{describe(small)}; with TRADING_GZIP_MINIMUM_SIZE={size + 1} and a body of {size} bytes, expected it"
            f" as it is (Content-Encoding: {encoding(small)})"
        )


def directives(response: httpx.Response) -> set[str]:
    """The directives of the Content-Security-Policy, each normalised to lower case and single spaces."""
    policy = header(response, "content-security-policy") or ""
    return {" ".join(part.split()).lower() for part in policy.split(";") if part.strip()}


def expect_security_headers(response: httpx.Response, what: str, hsts: bool) -> None:
    assert header(response, "x-content-type-options") == "nosniff", (
        f"{describe(response)}; expected X-Content-Type-Options: nosniff on {what}"
    )
    missing = {"default-src 'none'", "frame-ancestors 'none'"} - directives(response)
    assert not missing, (
        f"{describe(response)}; expected a Content-Security-Policy with {sorted(missing)} on {what},"
        f" got {header(response, 'content-security-policy')!r}"
    )
    sts = header(response, "strict-transport-security")
    if not hsts:
        assert sts is None, (
            f"{describe(response)}; expected no Strict-Transport-Security over http ({what}), got {sts!r}"
        )
        return
    assert sts is not None and "max-age=600" in [part.strip().lower() for part in sts.split(";")], (
        f"{describe(response)}; expected Strict-Transport-Security with max-age=600 (TRADING_HSTS_SECONDS) over"
        f" https ({what}), got {sts!r}"
    )


@pytest.mark.exercise("12.3", points=2)
async def test_security_headers_on_every_response_and_hsts_only_over_https(lab: LabFactory) -> None:
    """Every response carries X-Content-Type-Options: nosniff and a Content-Security-Policy with
    default-src 'none' and frame-ancestors 'none': a 200, a 404, a 422, a 400 for a Host not allowed. Over https
    they also carry Strict-Transport-Security with max-age=TRADING_HSTS_SECONDS (600 here); over plain http, never.
    The docs page (GET /docs) gets nosniff but not the API's strict policy, which would leave Swagger UI blank."""
    async with trading(lab, TRADING_HSTS_SECONDS="600", TRADING_ALLOWED_HOSTS='["testserver"]') as client:
        for base, hsts in (("", False), (HTTPS, True)):
            answers = {
                "a 200": await client.get(f"{base}/operations"),
                "a 404": await client.get(f"{base}/operations/999"),
                "a 422": await client.post(f"{base}/operations", json={}),
                "a 400 for a Host not allowed": await client.get(
                    f"{base}/operations", headers={"Host": "evil.example"}
                ),
            }
            for what, response in answers.items():
                expect_security_headers(response, what, hsts)
        docs = await client.get("/docs")
        expect_status(docs, 200)
        assert header(docs, "x-content-type-options") == "nosniff", f"{describe(docs)}; expected nosniff on /docs"
        assert "default-src 'none'" not in directives(docs), (
            f"{describe(docs)}; expected /docs without default-src 'none': Swagger UI needs its scripts and styles"
        )


# --- 12.4: behind a proxy: X-Forwarded-Proto and the root path --------------------------------------------------


async def created(client: AsyncClient, base: str = "", **headers: str) -> httpx.Response:
    response = await client.post(f"{base}/operations", json=NEW_OPERATION, headers=headers)
    expect_json(response, 201)
    return response


@pytest.mark.exercise("12.4", points=2)
async def test_x_forwarded_proto_is_believed_from_trusted_proxies_only(lab: LabFactory) -> None:
    """Behind a proxy that ends TLS, the app learns the scheme from X-Forwarded-Proto, but only from a proxy in
    TRADING_FORWARDED_ALLOW_IPS. With "*" (only the proxy can reach the app), a request with X-Forwarded-Proto:
    https is an https request: the Location of a new operation starts with https://, and the response has
    Strict-Transport-Security. With "192.0.2.10" (a proxy that is not the sender), the header is ignored: http://
    and no Strict-Transport-Security."""
    async with trading(lab, TRADING_FORWARDED_ALLOW_IPS="*") as client:
        response = await created(client, **{"X-Forwarded-Proto": "https"})
        location = header(response, "location") or ""
        assert location.startswith("https://testserver/operations/"), (
            f"{describe(response)}; from a trusted proxy, X-Forwarded-Proto: https makes it an https request:"
            f" expected a Location starting with https://testserver/operations/, got {location!r}"
        )
        assert header(response, "strict-transport-security") is not None, (
            f"{describe(response)}; expected Strict-Transport-Security on an https request (exercise 12.3)"
        )
    async with trading(lab, TRADING_FORWARDED_ALLOW_IPS="192.0.2.10") as client:
        response = await created(client, **{"X-Forwarded-Proto": "https"})
        location = header(response, "location") or ""
        assert location.startswith("http://testserver/operations/"), (
            f"{describe(response)}; X-Forwarded-Proto from a sender that is not a trusted proxy must be ignored:"
            f" expected a Location starting with http://testserver/operations/, got {location!r}"
        )
        assert header(response, "strict-transport-security") is None, (
            f"{describe(response)}; expected no Strict-Transport-Security: the request came over http"
        )


@pytest.mark.exercise("12.4", points=2)
async def test_the_app_is_served_under_its_root_path(lab: LabFactory) -> None:
    """With TRADING_ROOT_PATH=/desk, the proxy serves the API under /desk and strips the prefix: the app still
    answers GET /operations, and every link it writes carries the prefix: the Location of a new operation
    (http://testserver/desk/operations/{id}, which a GET through the proxy, without the prefix, finds), the OpenAPI
    `servers` ([{"url": "/desk"}]) and the docs page's link to /desk/openapi.json."""
    async with trading(lab, TRADING_ROOT_PATH="/desk") as client:
        expect_json(await client.get("/operations"), 200, "(the proxy strips /desk before passing the request on)")
        response = await created(client)
        location = header(response, "location") or ""
        match = re.fullmatch(r"http://testserver/desk(/operations/\d+)", location)
        assert match, (
            f"{describe(response)}; expected a Location http://testserver/desk/operations/{{id}}, got {location!r}"
        )
        expect_json(await client.get(match[1]), 200, "(the operation the Location names)")
        schema = expect_json(await client.get("/openapi.json"), 200)
        servers = schema.get("servers") if isinstance(schema, dict) else None
        assert servers == [{"url": "/desk"}], f"GET /openapi.json → servers {servers!r}; expected [{{'url': '/desk'}}]"
        docs = await client.get("/docs")
        expect_status(docs, 200)
        assert "/desk/openapi.json" in docs.text, (
            f"{describe(docs)}; expected the docs page to load /desk/openapi.json, the schema's URL through the proxy"
        )
