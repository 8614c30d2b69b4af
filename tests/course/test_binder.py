"""The Binder recipe (binder/), checked as far as a machine without Docker or repo2docker can.

repo2docker reads only binder/ when it exists, so the root Dockerfile (services mode) is not what
Binder builds. These tests check that the recipe installs what `make setup` installs, that every
command postBuild runs exists, and that serve()'s Swagger UI link works behind a hub's proxy.
"""

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
import yaml

from course import harness, notebook
from course.layout import checkout_root, lessons
from course.offline_docs import OfflineDocs

pytestmark = pytest.mark.embedded_only

ROOT = checkout_root()
BINDER = ROOT / "binder"
POST_BUILD = BINDER / "postBuild"
# Files that make repo2docker choose another build pack, or change what the conda one does.
OTHER_RECIPES = {"Dockerfile", "requirements.txt", "Pipfile", "Pipfile.lock", "setup.py", "Project.toml", "install.R"}
SHELL_BUILTINS = {"set", "cd", "export"}


def _pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return {
        name.lower().replace("_", "-"): version
        for name, version in (line.split("==", 1) for line in lines if "==" in line)
    }


def _commands() -> list[list[str]]:
    """Each simple command postBuild runs, as words."""
    commands = []
    for line in POST_BUILD.read_text().splitlines()[1:]:
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            commands += [shlex.split(part) for part in re.split(r"&&|;|\|\|", line) if part.strip()]
    return commands


def test_repo2docker_builds_binder_not_the_services_dockerfile() -> None:
    assert not (ROOT / ".binder").exists(), "repo2docker refuses a repository with both binder/ and .binder/"
    assert (ROOT / "Dockerfile").is_file(), "the reason binder/ exists: without it repo2docker builds the Dockerfile"
    assert {path.name for path in BINDER.iterdir()} == {"environment.yml", "postBuild"}
    assert not OTHER_RECIPES & {path.name for path in BINDER.iterdir()}


def test_environment_gives_python_311_and_pip_and_pins_only_what_constraints_pin() -> None:
    environment = yaml.safe_load((BINDER / "environment.yml").read_text())
    dependencies = environment["dependencies"]
    assert "python=3.11" in dependencies, "the pins in constraints.txt were resolved for Python 3.11"
    assert "pip" in dependencies
    assert environment["channels"] == ["conda-forge"]
    pins = _pins()
    for dependency in dependencies:
        if isinstance(dependency, dict):  # a pip section would be installed before postBuild, unpinned
            pytest.fail(f"binder/environment.yml installs with pip: {dependency}; postBuild does that, pinned")
        name, _, version = dependency.partition("=")
        if name != "python" and version:
            assert pins.get(name.lower()) == version.lstrip("="), f"{name}={version} disagrees with constraints.txt"


def test_post_build_is_a_strict_executable_script() -> None:
    text = POST_BUILD.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") or text.startswith("#!/bin/bash\n")
    assert POST_BUILD.stat().st_mode & 0o111, "postBuild must be executable"
    assert ["set", "-euo", "pipefail"] in _commands(), "a failed step must fail the build"
    assert subprocess.run(["bash", "-n", str(POST_BUILD)], capture_output=True, timeout=10).returncode == 0


def test_post_build_installs_what_make_setup_installs_and_every_command_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    make_install = re.search(r"pip install --quiet (-c constraints\.txt -e '\.\[\w+\]')", makefile)
    assert make_install, "the Makefile's setup no longer installs with constraints.txt"
    installs = [words for words in _commands() if words[:4] == ["python", "-m", "pip", "install"]]
    assert len(installs) == 1, _commands()
    assert shlex.join(installs[0][4:]).endswith(shlex.join(shlex.split(make_install[1]))), installs[0]
    assert importlib.util.find_spec("pip") is not None
    bin_dir = Path(sys.executable).parent
    for words in _commands():
        program = words[0]
        assert program in SHELL_BUILTINS or (bin_dir / program).exists() or shutil.which(program), (
            f"postBuild runs {program}, which is neither a shell builtin nor installed"
        )


def test_the_installed_set_has_jupyterlab_and_the_server_proxy_pinned() -> None:
    pins = _pins()
    for package in ("jupyterlab", "jupyter-server-proxy", "ipykernel"):
        assert package in pins, f"{package} is not pinned in constraints.txt"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=\[ ]", requirement, maxsplit=1)[0].lower() for requirement in requires}
    assert {"jupyterlab", "jupyter-server-proxy"} <= names, "the course installs its own JupyterLab and proxy"


async def test_swagger_link_under_a_hub_goes_through_the_users_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ana/")
    prefix = notebook._proxy_prefix(8765)
    assert f"{prefix}/docs" == "/user/ana/proxy/8765/docs"
    # jupyter-server-proxy strips /user/ana/proxy/8765 and forwards /docs; serve() gives uvicorn that root_path,
    # so the page must fetch its schema and assets under the prefix, or the browser asks the hub for them.
    app = OfflineDocs(harness.create_app("lesson01_endpoints"))
    transport = httpx.ASGITransport(app=app, root_path=prefix)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as client:
        page = await client.get("/docs")
    assert page.status_code == 200, page.text[:300]
    assert f"{prefix}/openapi.json" in page.text
    assert "cdn.jsdelivr.net" not in page.text


def test_the_hub_recipe_links_every_notebook_and_says_how_far_it_was_tried() -> None:
    recipe = (ROOT / "docs" / "jupyterhub.md").read_text()
    assert "**How far this was tried.**" in recipe.split("\n## ", 1)[0], "the page must say so at the top"
    links = set(re.findall(r"urlpath=lab/tree/fastapi-course-lab/(notebooks/[\w-]+\.ipynb)`", recipe))
    assert links == {lesson.notebook for lesson in lessons()}, "regenerate the table of nbgitpuller links"
    assert {path.name for path in (ROOT / "notebooks").glob("*.ipynb")} == {link.rpartition("/")[2] for link in links}
