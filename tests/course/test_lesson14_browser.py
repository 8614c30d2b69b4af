"""A real browser on lesson 14's pages, served by uvicorn started from another directory.

uvicorn runs the lab (the solutions) from an empty working directory, so the page renders
only if templates and static files are found next to the package. Chromium loads the list
page with its stylesheet applied, posts the form with a mistake and then correctly (following
the 303 to the new operation's page, where a `<script>` in the note is shown as text), and
compares an error of the mounted API, which is JSON, with a page's 404, which is HTML.
Screenshots go to artifacts/browser/.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.layout import checkout_root

from .uvicorn_lab import uvicorn_lab

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = checkout_root() / "artifacts" / "browser"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCRIPT_NOTE = "<script>document.title = 'pwned'</script>"

pytestmark = [
    pytest.mark.embedded_only,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.timeout(120),
]

# What a page's script can read of two failed requests: the status and the content type.
FETCH_BOTH = """
async () => {
  const read = async (path) => {
    const response = await fetch(path);
    return {status: response.status, type: response.headers.get("content-type"), body: await response.text()};
  };
  return {api: await read("/api/operations/999999"), page: await read("/no-such-page")};
}
"""


@pytest.fixture
def pages_server(tmp_path: Path, solutions_tree: Path) -> Iterator[str]:
    """Lesson 14's app under uvicorn on a free port, started from an empty directory; its base URL."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with uvicorn_lab("labs.lesson14_pages.app:app", solutions_tree, tmp_path, cwd=elsewhere) as base:
        yield base


def test_pages_render_a_form_posts_and_errors_are_json_for_the_api_and_html_for_pages(pages_server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            stylesheets: list[int] = []
            page.on("response", lambda response: response.url.endswith(".css") and stylesheets.append(response.status))
            page.goto(f"{pages_server}/")
            expect(page.locator("h1")).to_be_visible()
            assert stylesheets == [200], f"the stylesheet answered {stylesheets}: static files from another directory?"
            page.screenshot(path=str(ARTIFACTS / "lesson14-operations.png"))

            page.click("text=New operation")
            page.fill("#symbol", "MSFT")
            page.fill("#side", "hold")  # neither buy nor sell
            page.fill("#quantity", "3")
            page.fill("#price", "410.50")
            page.fill("#note", SCRIPT_NOTE)
            page.click("button[type=submit]")
            expect(page.locator("#side-error")).to_be_visible()
            expect(page.locator("#symbol")).to_have_value("MSFT")  # what was entered is kept
            page.screenshot(path=str(ARTIFACTS / "lesson14-form-error.png"))

            page.fill("#side", "buy")
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r".*/operations/\d+$"))  # the 303 to the new operation's page
            expect(page.locator("#symbol")).to_have_text("MSFT")
            expect(page.locator("#note")).to_have_text(SCRIPT_NOTE)  # shown as text, never run
            assert page.title() != "pwned"
            page.screenshot(path=str(ARTIFACTS / "lesson14-operation.png"))

            errors = page.evaluate(FETCH_BOTH)
        finally:
            browser.close()
    api, html = errors["api"], errors["page"]
    assert api["status"] == 404 and api["type"].startswith("application/json") and '"detail"' in api["body"], api
    assert html["status"] == 404 and html["type"].startswith("text/html"), html
    assert "<html" in html["body"].lower(), html["body"][:300]
