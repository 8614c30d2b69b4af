"""A real browser and lesson 12's CORS: the lab on one port, pages of two other origins, one allowed.

The lab (the solutions) is served by uvicorn on a real port, as ``serve()`` serves it, with
``TRADING_CORS_ORIGINS`` naming one page origin. A tiny static server serves the same page on
two more ports: ``http://localhost:<allowed>`` and ``http://localhost:<other>`` are two origins
of one site. Chromium opens each page, and the page's own script calls the API with
``fetch``: the allowed page signs in, gets the session cookie, sends it back with
``credentials: "include"`` and reads its answers; the other page's fetches fail, although the
same cookie goes along (same site) and the server answers: the browser refuses the page the answer.
"""

import asyncio
import contextlib
import functools
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from course.harness import create_app
from course.layout import checkout_root

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = checkout_root() / "artifacts" / "browser"
PASSWORD = "browser-test-password-0123456789"
EMAIL = "ada@desk.example"

pytestmark = [
    pytest.mark.embedded_only,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.timeout(120),
]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Trading desk page</title></head>
<body><h1>Trading desk page</h1><pre id="out">waiting</pre></body></html>
"""

# Each call: the HTTP status and body the page's script could read, or the error fetch raised.
CALLS = """
async ({api, email, password}) => {
  async function call(name, path, init) {
    try {
      const response = await fetch(api + path, init);
      const text = await response.text();
      return [name, {status: response.status, requestId: response.headers.get("x-request-id"), body: text}];
    } catch (error) {
      return [name, {error: error.name}];
    }
  }
  const results = [];
  results.push(await call("sign in", "/auth/session", {
    method: "POST", credentials: "include",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({email, password})}));
  results.push(await call("me, with the cookie", "/auth/me", {credentials: "include"}));
  results.push(await call("me, without credentials", "/auth/me", {}));
  results.push(await call("operations", "/operations/1", {}));
  results.push(await call("delete, with X-Request-ID", "/operations/6", {
    method: "DELETE", credentials: "include", headers: {"X-Request-ID": "browser-req-0001"}}));
  results.push(await call("PUT, not allowed", "/operations/1", {method: "PUT", credentials: "include",
    headers: {"Content-Type": "application/json"}, body: "{}"}));
  results.push(await call("X-Debug header, not allowed", "/operations", {headers: {"X-Debug": "1"}}));
  const out = Object.fromEntries(results);
  document.getElementById("out").textContent = JSON.stringify(out, null, 2);
  return out;
}
"""


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def page_server(directory: Path) -> Iterator[int]:
    """A static server for the page, on a port of its own."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@contextlib.contextmanager
def served_lab(env: dict[str, str]) -> Iterator[int]:
    """The lab on a free 127.0.0.1 port, in a thread, with ``env`` as its settings."""
    import uvicorn

    sock = _free_socket()
    port = sock.getsockname()[1]
    # The browser reaches the API as http://localhost:<port>.
    app = create_app("lesson12_middleware", env={**env, "TRADING_ALLOWED_HOSTS": '["localhost", "127.0.0.1"]'})
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.05)
        assert server.started, "the lab did not start serving within 15 s"
        yield port
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def test_only_the_allowed_origin_reads_answers_and_sends_the_cookie(solutions_tree: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    results: dict[str, dict[str, Any]] = {}
    with page_server(tmp_path) as allowed_port, page_server(tmp_path) as other_port:
        allowed, other = f"http://localhost:{allowed_port}", f"http://localhost:{other_port}"
        env = {
            "TRADING_CORS_ORIGINS": json.dumps([allowed]),
            "TRADING_DEMO_PASSWORD": PASSWORD,
            "TRADING_FAST_PASSWORD_HASH": "true",
        }
        with served_lab(env) as api_port, sync_playwright() as playwright:
            api = f"http://localhost:{api_port}"
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
            try:
                context = browser.new_context()
                page = context.new_page()
                page.set_default_timeout(20_000)
                for name, origin in (("allowed", allowed), ("other", other)):
                    page.goto(f"{origin}/index.html")
                    results[name] = page.evaluate(CALLS, {"api": api, "email": EMAIL, "password": PASSWORD})
                    page.screenshot(path=str(ARTIFACTS / f"lesson12-{name}-origin.png"), full_page=True)
                cookies = context.cookies(api)
            finally:
                browser.close()
    told = json.dumps(results, indent=1)
    mine, theirs = results["allowed"], results["other"]
    assert mine["sign in"].get("status") == 204, f"the allowed page could not sign in: {told}"
    assert any(cookie["name"] == "trading_session" and cookie["httpOnly"] for cookie in cookies), (
        f"expected the browser to keep the HttpOnly session cookie, has {cookies}"
    )
    me = mine["me, with the cookie"]
    assert me.get("status") == 200 and json.loads(me.get("body") or "{}").get("email") == EMAIL, (
        f"with credentials: 'include' the cookie goes along and the page reads the answer: {told}"
    )
    assert mine["me, without credentials"].get("status") == 401, f"without credentials, no cookie is sent: {told}"
    assert mine["operations"].get("status") == 200 and mine["operations"].get("requestId"), (
        f"the allowed page reads answers and the exposed X-Request-ID: {told}"
    )
    assert mine["delete, with X-Request-ID"] == {"status": 204, "requestId": "browser-req-0001", "body": ""}, (
        f"DELETE with an allowed header passes the preflight, and the page's own request id comes back: {told}"
    )
    for name in ("PUT, not allowed", "X-Debug header, not allowed"):
        assert mine[name] == {"error": "TypeError"}, f"expected the browser to refuse {name!r}: {told}"
    assert all(outcome == {"error": "TypeError"} for outcome in theirs.values()), (
        f"expected every fetch of the other origin's page to fail, its cookie sent or not: {told}"
    )
