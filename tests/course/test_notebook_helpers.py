"""lab, show, serve and check as a notebook uses them."""

import httpx
import pytest

from course import notebook
from course.config import ROOT_ENV
from course.harness import create_app, environment, open_lab
from course.layout import checkout_root

LESSON = "lesson01_endpoints"


async def test_lab_returns_a_client_and_replaces_the_previous_one(capsys: pytest.CaptureFixture[str]) -> None:
    first = await notebook.lab(LESSON)
    second = await notebook.lab(LESSON)
    assert first.is_closed, "calling lab() again must close the previous client"
    response = await second.get("/openapi.json")
    assert response.status_code == 200
    await notebook.close_lab()
    assert second.is_closed
    assert "lesson01_endpoints is running in-process (embedded mode)" in capsys.readouterr().out.replace(
        "services", "embedded"
    )


async def test_lab_picks_up_edits_without_a_restart(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    labs = shutil.copytree(
        checkout_root() / "solutions", tmp_path / "labs", ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    client = await notebook.lab(LESSON)
    assert (await client.get("/users/1")).json()["name"] == "Ada"
    store = labs / LESSON / "store.py"
    store.write_text(store.read_text().replace('"Ada"', '"Augusta"'))
    client = await notebook.lab(LESSON)
    assert (await client.get("/users/1")).json()["name"] == "Augusta"
    await notebook.close_lab()


async def test_show_prints_a_stable_readable_response(solutions_tree, capsys: pytest.CaptureFixture[str]) -> None:
    async with open_lab(LESSON) as client:
        notebook.show(await client.get("/users/999"))
        notebook.show(await client.get("/docs"), headers=("content-length",))
    out = capsys.readouterr().out
    assert out.startswith(
        'GET /users/999\n404 Not Found\ncontent-type: application/json\n{\n  "detail": "User 999 not found"\n}\n'
    )
    assert "GET /docs\n200 OK\ncontent-length:" in out and "characters)" not in out.split("GET /docs")[0]


def test_show_truncates_long_text_bodies(capsys: pytest.CaptureFixture[str]) -> None:
    request = httpx.Request("GET", "http://testserver/big")
    notebook.show(httpx.Response(200, text="x" * 5000, request=request))
    notebook.show(httpx.Response(200, text="{broken", headers={"content-type": "application/json"}, request=request))
    out = capsys.readouterr().out
    assert "… (5000 characters)" in out and "{broken" in out


async def test_serve_runs_the_app_on_a_real_port(capsys: pytest.CaptureFixture[str]) -> None:
    url = await notebook.serve(LESSON)
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            docs = await client.get(url)
            spec = await client.get(url.replace("/docs", "/openapi.json"))
            asset = await client.get(url.replace("/docs", "/_course/swagger-ui/swagger-ui-bundle.js"))
        assert docs.status_code == 200 and "cdn.jsdelivr.net" not in docs.text, "Swagger UI must work offline"
        assert "/_course/swagger-ui/swagger-ui-bundle.js" in docs.text and asset.status_code == 200
        assert spec.json()["info"]["title"] == "Trading API"
        again = await notebook.serve(LESSON)  # replaces the first server
        assert again != url
    finally:
        notebook.stop_serving()
    assert f"is serving at {url}" in capsys.readouterr().out


def test_serve_links_through_the_jupyter_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert notebook._proxy_prefix(8123) is None
    monkeypatch.setenv("JPY_SESSION_NAME", "01-endpoints.ipynb")
    assert notebook._proxy_prefix(8123) == "/proxy/8123"
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    assert notebook._proxy_prefix(8123) == "/user/ada/proxy/8123"


def test_check_shows_a_table_and_raises_only_when_strict(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from course.config import get_settings

    monkeypatch.setenv(ROOT_ENV, str(checkout_root()))  # the starter
    monkeypatch.setenv("COURSE_STRICT", "0")
    get_settings.cache_clear()
    assert notebook.check("1.1") is None  # the cell shows the table, not a bare False
    assert "0/2 points" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_STRICT", "1")
    get_settings.cache_clear()
    with pytest.raises(AssertionError, match=r"checks failed for exercise 1\.1"):
        notebook.check("1.1")
    get_settings.cache_clear()


def test_environment_overrides_are_undone() -> None:
    import os

    os.environ["COURSE_TEST_KEPT"] = "before"
    with environment({"COURSE_TEST_KEPT": "during", "COURSE_TEST_NEW": "x"}):
        assert os.environ["COURSE_TEST_KEPT"] == "during"
    assert os.environ.pop("COURSE_TEST_KEPT") == "before" and "COURSE_TEST_NEW" not in os.environ
    assert create_app(LESSON).title == "Trading API"
