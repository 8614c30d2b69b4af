"""A real browser: JupyterLab started as `make lab` starts it runs notebook 01 without an error,
and the Swagger UI that serve() starts renders through the Jupyter proxy."""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from course.config import ROOT_ENV
from course.layout import checkout_root

from .uvicorn_lab import free_port

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = checkout_root() / "artifacts" / "browser"
TOKEN = "course-browser-test"
NOTEBOOK = "01-endpoints.ipynb"

pytestmark = [
    pytest.mark.embedded_only,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.timeout(240),
]


@pytest.fixture
def jupyterlab(tmp_path: Path, solutions_tree: Path) -> Iterator[tuple[str, Path]]:
    """JupyterLab on a copy of the notebooks, so a run never rewrites the stored ones."""
    notebooks = shutil.copytree(checkout_root() / "notebooks", tmp_path / "notebooks")
    port = free_port()
    # `make lab` itself, with its notebook dir pointed at the copy.
    args = f"--no-browser --port={port} --ServerApp.token={TOKEN} --ServerApp.ip=127.0.0.1"
    env = {**os.environ, ROOT_ENV: str(solutions_tree), "COURSE_STRICT": "1", "JUPYTER_ARGS": args}
    env.update(NOTEBOOK_DIR=str(notebooks), JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter"))
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "jupyter.log").open("w") as log:
        server = subprocess.Popen(
            ["make", "--no-print-directory", "lab"],
            cwd=checkout_root(),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if httpx.get(f"{base}/lab", params={"token": TOKEN}, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                pytest.fail(f"JupyterLab did not serve /lab:\n{(tmp_path / 'jupyter.log').read_text()[-2000:]}")
            yield base, notebooks
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)  # make and the jupyter it started
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def _menu(page, menu: str, item: re.Pattern[str]) -> None:
    page.get_by_role("menuitem", name=menu, exact=True).click()
    page.get_by_role("menuitem", name=item).click()


def test_make_lab_serves_jupyterlab(jupyterlab: tuple[str, Path]) -> None:
    base, _ = jupyterlab
    response = httpx.get(f"{base}/lab", params={"token": TOKEN}, timeout=10)
    assert response.status_code == 200 and "JupyterLab" in response.text


def test_notebook_01_runs_in_a_browser_and_its_swagger_ui_renders(jupyterlab: tuple[str, Path]) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    base, notebooks = jupyterlab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={TOKEN}")
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for()
        dialog = page.get_by_role("dialog", name=re.compile("Select Kernel"))
        with contextlib.suppress(PlaywrightTimeout):  # JupyterLab asks once, as it asks a learner
            dialog.wait_for(timeout=5_000)
            dialog.get_by_role("button", name="Select", exact=True).click()
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for()
        _menu(page, "Edit", re.compile(r"^Clear Outputs of All Cells"))
        _menu(page, "Run", re.compile(r"^Run All Cells"))
        code_cells = page.locator(".jp-NotebookPanel .jp-CodeCell")
        count = code_cells.count()
        # Done when every prompt holds a number ("[*]" while running, "[ ]" before), or on an error,
        # since Run All stops at the first one.
        page.wait_for_function(
            """n => {
                const panel = document.querySelector('.jp-NotebookPanel');
                if (panel.querySelector('[data-mime-type="application/vnd.jupyter.stderr"]')) return true;
                const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
                return prompts.length === n && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            }""",
            arg=count,
            timeout=180_000,
        )
        page.screenshot(path=str(ARTIFACTS / "notebook-01.png"), full_page=True)
        page.keyboard.press("Control+s")
        page.locator(".jp-mod-dirty").first.wait_for(state="detached")
        saved = json.loads((notebooks / NOTEBOOK).read_text())
        errors = [o for c in saved["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"notebook 01 raised in the browser: {errors[0]['ename']}: {errors[0]['evalue']}"
        text = "".join("".join(o.get("text", "")) for c in saved["cells"] for o in c.get("outputs", []))
        port = re.search(r"is serving at http://127\.0\.0\.1:(\d+)/docs", text)
        assert port, "notebook 01 did not start serve()"
        page.goto(f"{base}/proxy/{port[1]}/docs")
        page.locator(".swagger-ui .info .title").wait_for()
        title = page.locator(".swagger-ui .info .title").inner_text()
        page.screenshot(path=str(ARTIFACTS / "swagger-ui.png"))
        browser.close()
    assert title.startswith("Trading API"), f"Swagger UI title is {title!r}"
