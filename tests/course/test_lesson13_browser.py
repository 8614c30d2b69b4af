"""A real browser: two Chromium pages chat through lesson 13's page, served by uvicorn as in production.

The lab (the solutions) runs in a uvicorn process of its own; each page logs in through the
page's form, opens the WebSocket with its token in the query string, and sees the other's
messages. Screenshots go to artifacts/browser/.
"""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from course.layout import checkout_root

from .uvicorn_lab import uvicorn_lab

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = checkout_root() / "artifacts" / "browser"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct horse battery staple"

pytestmark = [
    pytest.mark.embedded_only,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.timeout(120),
]


@pytest.fixture
def chat_server(tmp_path: Path, solutions_tree: Path) -> Iterator[str]:
    """Lesson 13's app (the solutions) under uvicorn on a free port; its base URL."""
    env = {"CHAT_SECRET_KEY": "browser-test-secret-of-lesson-13-0123456789-abcdef", "CHAT_FAST_PASSWORD_HASH": "true"}
    with uvicorn_lab("labs.lesson13_websockets.app:app", solutions_tree, tmp_path, ready="/chat", env=env) as base:
        yield base


def test_two_browser_pages_chat_over_websockets(chat_server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    for name in ("ada", "bob"):
        answer = httpx.post(f"{chat_server}/auth/register", json={"username": name, "password": PASSWORD}, timeout=10)
        assert answer.status_code == 201, answer.text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            pages = {}
            for name in ("ada", "bob"):
                page = browser.new_context().new_page()  # a context each: two browsers, as two people
                page.set_default_timeout(15_000)
                page.goto(f"{chat_server}/chat")
                page.fill("#username", name)
                page.fill("#password", PASSWORD)
                page.fill("#room", "general")
                page.click("#login button")
                expect(page.locator("#status")).to_have_text("Connected to general")
                pages[name] = page
            pages["ada"].fill("#text", "Hello from Ada")
            pages["ada"].click("#send button")
            expect(pages["bob"].locator("#messages li").last).to_have_text("ada: Hello from Ada")
            pages["bob"].fill("#text", "Hi Ada, Bob here")
            pages["bob"].click("#send button")
            expect(pages["ada"].locator("#messages li").last).to_have_text("bob: Hi Ada, Bob here")
            for name, page in pages.items():
                expect(page.locator("#messages li")).to_have_count(2)  # each message once, in both pages
                page.screenshot(path=str(ARTIFACTS / f"lesson13-chat-{name}.png"))
            # A wrong password: the page shows the API's JSON detail, and opens no WebSocket.
            stranger = browser.new_context().new_page()
            stranger.set_default_timeout(15_000)
            stranger.goto(f"{chat_server}/chat")
            stranger.fill("#username", "ada")
            stranger.fill("#password", "not the password")
            stranger.click("#login button")
            expect(stranger.locator("#status")).to_have_text("Incorrect username or password")
        finally:
            browser.close()
