"""Graded checks for lesson 14: web pages, static files, a form, and the JSON API mounted under /api.

Every check talks to the app over HTTP, as a browser or a script would, and reads pages the way a
browser does: with an HTML parser (``Page`` below), so any markup that shows the right things passes.
The app starts in an empty working directory (``isolated_settings``): templates and static files must
be found beside the code, not in the directory the server was started from.
"""

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from httpx import AsyncClient

from .expect import describe, expect_json, expect_status, isolated_settings

hermetic_settings = isolated_settings("TRADING_")

# The desk's book as every app instance starts it (the lab's seed operations).
SEED = [
    (1, "AAPL", "buy", "10", "189.50", "Opening position"),
    (2, "MSFT", "buy", "5", "415.20", ""),
    (3, "NVDA", "sell", "2", "880.00", '<script>alert("owned")</script>'),
    (4, "TSLA", "buy", "3", "175.25", "Tom & Jerry's <b>bold</b> idea"),
]
SCRIPT_NOTE = SEED[2][5]
VALID = {"symbol": "AMZN", "side": "buy", "quantity": "7", "price": "178.10", "note": "Added from the form"}


class Page(HTMLParser):
    """What a browser would make of an HTML page: its elements, its visible text, its form fields."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.chunks: list[str] = []
        self._in_script = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        if tag == "script":
            self._in_script += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script:
            self._in_script -= 1

    def handle_data(self, data: str) -> None:
        if not self._in_script:
            self.chunks.append(data)

    @property
    def text(self) -> str:
        """The visible text, whitespace collapsed."""
        return " ".join(" ".join(self.chunks).split())

    def elements(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def field_values(self) -> dict[str, str]:
        """name → value of the form's inputs (the text of a textarea, the selected option of a select)."""
        values = {attrs["name"]: attrs.get("value", "") for attrs in self.elements("input") if attrs.get("name")}
        return values


class FormPage(Page):
    """A page whose textareas and selects count as form fields too."""

    def __init__(self, html: str) -> None:
        self.extra: dict[str, str] = {}
        self._field: str | None = None
        self._select: str | None = None
        super().__init__(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        named = {name: value or "" for name, value in attrs}
        if tag == "textarea":
            self._field = named.get("name")
            self.extra[self._field or ""] = ""
        elif tag == "select":
            self._select = named.get("name")
        elif tag == "option" and self._select and "selected" in named:
            self.extra[self._select] = named.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        super().handle_endtag(tag)
        if tag == "textarea":
            self._field = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        super().handle_data(data)
        if self._field is not None:
            self.extra[self._field] += data

    def field_values(self) -> dict[str, str]:
        return {**super().field_values(), **self.extra}


def expect_html(response: httpx.Response, status: int, what: str = "") -> Page:
    expect_status(response, status, what)
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("text/html"), (
        f"{describe(response)}; expected an HTML page (Content-Type text/html), got Content-Type {content_type!r}"
    )
    return Page(response.text)


def local(url: str) -> str:
    """The path and query of ``url``: where the client asks, whatever host the app wrote into its links."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- 14.1: pages from templates, autoescaped, with their stylesheet ------------------------------------------


@pytest.mark.exercise("14.1", points=2)
async def test_the_operations_page_lists_every_operation(client: AsyncClient) -> None:
    """GET / answers 200 with an HTML page (Content-Type text/html) that shows every operation of the desk:
    its symbol, side, quantity, price and note."""
    response = await client.get("/")
    page = expect_html(response, 200)
    for _, symbol, side, quantity, price, note in SEED:
        for value in (symbol, side, quantity, price, note):
            assert value in page.text, f"{describe(response)}; expected the page to show {value!r} ({symbol})"


@pytest.mark.exercise("14.1", points=2)
async def test_an_operation_page_shows_that_operation(client: AsyncClient) -> None:
    """GET /operations/{id} answers 200 with an HTML page that shows that operation: its symbol, side, quantity,
    price and note, and not another operation's symbol; the first and the last operation alike."""
    for operation_id, symbol, side, quantity, price, note in (SEED[0], SEED[-1]):
        response = await client.get(f"/operations/{operation_id}")
        page = expect_html(response, 200)
        for value in (symbol, side, quantity, price, note):
            assert value in page.text, f"{describe(response)}; expected the page to show {value!r}"
        others = [other[1] for other in SEED if other[0] != operation_id and other[1] in page.text.split()]
        assert not others, f"{describe(response)}; expected only operation {operation_id}, also shows {others}"


@pytest.mark.exercise("14.1", points=3)
async def test_stored_html_is_shown_as_text_never_run(client: AsyncClient) -> None:
    """A note that holds HTML (operation 3's note is `<script>alert("owned")</script>`, operation 4's holds
    `<b>`) is shown as text on the operations page and on the operation's page: the page has no <script> or <b>
    element, and its visible text holds the note character for character (autoescaping)."""
    for path in ("/", "/operations/3", "/operations/4"):
        response = await client.get(path)
        page = expect_html(response, 200)
        for tag in ("script", "b"):
            assert not page.elements(tag), (
                f"{describe(response)}; a stored note became a <{tag}> element: the page must escape it"
            )
        notes = [SCRIPT_NOTE] if path != "/operations/4" else []
        notes += [SEED[3][5]] if path != "/operations/3" else []
        for note in notes:
            assert note in page.text, f"{describe(response)}; expected the note {note!r} shown as text"


async def expect_stylesheet(client: AsyncClient, path: str, status: int = 200) -> None:
    response = await client.get(path)
    page = expect_html(response, status)
    links = [attrs.get("href", "") for attrs in page.elements("link") if "stylesheet" in attrs.get("rel", "").split()]
    assert links, f'{describe(response)}; expected a <link rel="stylesheet" href=...> on the page'
    for href in links:
        target = local(urljoin(str(response.url), href))
        css = await client.get(target)
        expect_status(css, 200, f"for the stylesheet {href!r} linked from {path} (resolved to {target})")
        content_type = css.headers.get("content-type", "")
        assert content_type.startswith("text/css") and "body" in css.text, (
            f"{describe(css)}; expected the desk's stylesheet (text/css) for the link {href!r} on {path}"
        )


@pytest.mark.exercise("14.1", points=2)
async def test_the_stylesheet_link_works_from_every_page(client: AsyncClient) -> None:
    """The operations page (/) and an operation's page (/operations/2) link a stylesheet with
    <link rel="stylesheet" href=...>; the link, resolved against the page's address as a browser resolves it,
    answers 200 with the desk's CSS (Content-Type text/css), served from the package's static files."""
    for path in ("/", "/operations/2"):
        await expect_stylesheet(client, path)


# --- 14.2: a form, its errors, and Post/Redirect/Get ---------------------------------------------------------


async def post_form(client: AsyncClient, fields: dict[str, str]) -> httpx.Response:
    return await client.post("/operations/new", data=fields)


async def operation_count(client: AsyncClient) -> int:
    """How many operations the operations page shows (one link to an operation's page each)."""
    response = await client.get("/")
    page = expect_html(response, 200)
    targets = {local(urljoin(str(response.url), attrs.get("href", ""))) for attrs in page.elements("a")}
    return len({target for target in targets if target.removeprefix("/operations/").isdigit()})


@pytest.mark.exercise("14.2", points=3)
async def test_a_valid_form_redirects_with_303_to_the_new_operation(client: AsyncClient) -> None:
    """POST /operations/new with valid fields (form-encoded: symbol, side, quantity, price, note) answers
    303 See Other — not 200, 302 or 307 — with a Location that, followed with GET, shows the new operation
    (200, its symbol, quantity, price and note). The bounds pass at both ends: quantity 1 and 100000, price 0.01
    and 100000.00, a note of 200 characters, a symbol of 1 and of 5 capitals."""
    cases = [
        VALID,
        {**VALID, "symbol": "F", "quantity": "1", "price": "0.01", "note": "n" * 200},
        {**VALID, "symbol": "GOOGL", "quantity": "100000", "price": "100000.00", "note": ""},
    ]
    for fields in cases:
        response = await post_form(client, fields)
        expect_status(response, 303, "See Other: the browser then GETs the new operation's page")
        location = response.headers.get("location")
        assert location, f"{describe(response)}; expected a Location header"
        shown = await client.get(local(urljoin(str(response.url), location)))
        page = expect_html(shown, 200, f"for the Location {location!r} of the redirect")
        for name in ("symbol", "quantity", "price", "note"):
            assert fields[name] in page.text, f"{describe(shown)}; expected the new operation's {name} {fields[name]!r}"
    assert await operation_count(client) == len(SEED) + len(cases), "expected each valid post to add one operation"


INVALID = [
    ("symbol", "aapl"),
    ("symbol", "TOOLONG"),
    ("side", "hold"),
    ("quantity", "0"),
    ("quantity", "100001"),
    ("quantity", "two"),
    ("price", "0"),
    ("price", "100000.01"),
    ("price", "1.234"),
    ("price", "NaN"),
    ("note", "n" * 201),
]


@pytest.mark.exercise("14.2", points=3)
async def test_an_invalid_form_comes_back_with_an_error_and_what_was_entered(client: AsyncClient) -> None:
    """POST /operations/new with one invalid field (a lowercase or 6-letter symbol, a side other than buy or
    sell, quantity 0, 100001 or not a number, price 0, 100000.01, three decimals or NaN, a note of 201
    characters) saves nothing and answers 400 or 422 with the form again: an HTML page whose fields hold every
    value entered, and with more to read than the blank form (GET /operations/new): the error message."""
    blank = expect_html(await client.get("/operations/new"), 200)
    for name, bad in INVALID:
        fields = {**VALID, name: bad}
        response = await post_form(client, fields)
        assert response.status_code in (400, 422), (
            f"{describe(response)}; expected 400 or 422 with the form again ({name}={bad[:20]!r} is invalid)"
        )
        page = expect_html(response, response.status_code)
        values = FormPage(response.text).field_values()
        for field, value in fields.items():
            assert values.get(field) == value, (
                f"{describe(response)}; expected the field {field!r} to hold what was entered, {value[:30]!r},"
                f" got {values.get(field, '<no such field>')[:30]!r}"
            )
        assert len(page.text) > len(blank.text), (
            f"{describe(response)}; expected an error message on the page ({name}={bad[:20]!r}), it shows no more"
            " than the blank form"
        )
    assert await operation_count(client) == len(SEED), "expected no invalid post to save an operation"


@pytest.mark.exercise("14.2", points=2)
async def test_entered_html_comes_back_escaped(client: AsyncClient) -> None:
    """An invalid post whose note is `"><script>alert(1)</script>` comes back with the note in its field, as
    entered, and without a <script> element on the page: the value is escaped inside the attribute too."""
    fields = {**VALID, "quantity": "0", "note": '"><script>alert(1)</script>'}
    response = await post_form(client, fields)
    assert response.status_code in (400, 422), f"{describe(response)}; expected 400 or 422 (quantity 0)"
    page = expect_html(response, response.status_code)
    assert not page.elements("script"), f"{describe(response)}; the entered note became a <script> element"
    assert FormPage(response.text).field_values().get("note") == fields["note"], (
        f"{describe(response)}; expected the note field to hold {fields['note']!r}"
    )


# --- 14.3: the API mounted under /api, JSON errors there and HTML errors on pages, one lifespan ---------------


@pytest.mark.exercise("14.3", points=3)
async def test_the_api_answers_under_api_with_what_its_lifespan_loaded(client: AsyncClient) -> None:
    """The JSON API is served under /api: GET /api/operations lists the desk's operations, GET /api/operations/3
    is operation 3, POST /api/operations creates one (201), and GET /api/quotes/AAPL answers the price the API
    loads at start-up ({"symbol": "AAPL", "price": "189.95"}): its lifespan ran, although the app was started
    as the web app."""
    listed = expect_json(await client.get("/api/operations"), 200)
    assert isinstance(listed, list) and [item.get("symbol") for item in listed] == [row[1] for row in SEED], (
        f"GET /api/operations → {listed!r}; expected the desk's operations {[row[1] for row in SEED]}"
    )
    one = expect_json(await client.get("/api/operations/3"), 200)
    assert one.get("note") == SCRIPT_NOTE, f"GET /api/operations/3 → {one!r}; expected operation 3, note as stored"
    body = {"symbol": "AMZN", "side": "sell", "quantity": 2, "price": "178.40"}
    created = expect_json(await client.post("/api/operations", json=body), 201)
    assert created.get("symbol") == "AMZN", f"POST /api/operations → {created!r}; expected the new operation"
    for symbol, price in (("AAPL", "189.95"), ("TSLA", "175.90")):
        response = await client.get(f"/api/quotes/{symbol}")
        quote = expect_json(response, 200, "(the price book is loaded by the API's lifespan)")
        assert quote == {"symbol": symbol, "price": price}, f"{describe(response)}; expected {symbol} at {price}"


def expect_json_error(response: httpx.Response, status: int) -> None:
    body = expect_json(response, status, 'with a JSON {"detail": ...}: the API answers scripts')
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("application/json") and isinstance(body, dict) and "detail" in body, (
        f"{describe(response)}; expected application/json with a `detail`, got Content-Type {content_type!r}"
    )


@pytest.mark.exercise("14.3", points=3)
async def test_api_errors_are_json(client: AsyncClient) -> None:
    """Under /api every error is JSON with a `detail` (Content-Type application/json): 404 for an unknown
    address (/api/nope, /api/operations/1/nope), an unknown operation (/api/operations/999) or symbol
    (/api/quotes/ZZZ); 422 for a malformed id (/api/operations/abc) or an invalid body."""
    for path in ("/api/nope", "/api/operations/1/nope", "/api/operations/999", "/api/quotes/ZZZ"):
        expect_json_error(await client.get(path), 404)
    expect_json_error(await client.get("/api/operations/abc"), 422)
    expect_json_error(await client.post("/api/operations", json={"symbol": "aapl"}), 422)


@pytest.mark.exercise("14.3", points=3)
async def test_page_errors_are_html_pages(client: AsyncClient) -> None:
    """Outside /api an error is an HTML page (Content-Type text/html), never JSON: 404 for an unknown address
    (/nope, /operations/1/nope), an unknown operation (/operations/999, /operations/2147483647) or a malformed
    id (/operations/abc, /operations/0). Its visible text says the status (404), and it links the
    stylesheet."""
    for path in ("/nope", "/operations/1/nope", "/operations/999", "/operations/2147483647"):
        response = await client.get(path)
        page = expect_html(response, 404, "as an HTML page: pages answer people")
        assert "404" in page.text, f"{describe(response)}; expected the page to say 404"
    for path in ("/operations/abc", "/operations/0"):
        response = await client.get(path)
        assert 400 <= response.status_code < 500, f"{describe(response)}; expected a 4xx page for a malformed id"
        expect_html(response, response.status_code, "as an HTML page: pages answer people")
    await expect_stylesheet(client, "/nope", 404)
