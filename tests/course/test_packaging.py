"""The files around the code stay in step: environment.yml, docker-compose.yml, notebooks."""

import json
import re
import shutil
import subprocess
import tomllib

import pytest
import yaml

from course.layout import checkout_root, lessons
from course.record import IGNORE_OUTPUT, dumps, normalise
from course.resources import worker_command

ROOT = checkout_root()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.mark.embedded_only
def test_make_conda_and_docker_install_the_same_pinned_set() -> None:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    dependencies = environment["dependencies"]
    python = next(dep for dep in dependencies if isinstance(dep, str) and dep.startswith("python"))
    assert python == "python=3.11", "the pins were resolved for Python 3.11"
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"
    pip = next(dep["pip"] for dep in dependencies if isinstance(dep, dict))
    makefile = (ROOT / "Makefile").read_text()
    extras = re.search(r"pip install --quiet -c constraints\.txt -e '\.\[(\w+)\]'", makefile)
    assert extras and pip == ["-c constraints.txt", f"-e .[{extras[1]}]"], "conda and make must install the same"
    assert extras[1] in PYPROJECT["project"]["optional-dependencies"]
    assert f"-c constraints.txt -e '.[{extras[1]}]'" in (ROOT / "Dockerfile").read_text()
    pinned = dict(line.split("==", 1) for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line)
    for package in ("fastapi", "starlette", "pydantic", "sqlmodel", "sqlalchemy", "celery", "httpx", "nbval"):
        assert package in {name.lower() for name in pinned}, f"{package} is not pinned in constraints.txt"


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.mark.embedded_only
@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_compose_file_is_valid() -> None:
    result = subprocess.run(["docker-compose", "config", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


@pytest.mark.embedded_only
def test_compose_services_use_the_services_mode_names_and_commands() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "course", "celery-worker", "flower"}
    postgres = services["postgres"]["environment"]
    assert "POSTGRES_HOST_AUTH_METHOD" not in postgres and "trust" not in str(postgres), "PostgreSQL must not trust"
    assert "--auth-local=scram-sha-256" in postgres["POSTGRES_INITDB_ARGS"]
    for name in ("course", "celery-worker", "flower"):
        env = services[name]["environment"]
        assert env["COURSE_MODE"] == "services"
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["build"] == "."
    run = services["course"]["environment"]["COURSE_RUN_ID"]
    worker = services["celery-worker"]["command"]
    assert worker == worker_command(
        "course.celery_app:celery_app", f"course.{run}", worker[worker.index("--hostname") + 1]
    )
    assert services["flower"]["command"][:3] == ["celery", "-A", "course.celery_app:celery_app"]
    assert (ROOT / "Dockerfile").is_file()


@pytest.mark.embedded_only
@pytest.mark.parametrize("lesson", lessons(), ids=lambda lesson: lesson.package)
def test_notebooks_are_stored_normalised_with_a_check_cell_per_exercise(lesson) -> None:
    path = ROOT / lesson.notebook
    text = path.read_text(encoding="utf-8")
    notebook = json.loads(text)
    assert text == dumps(normalise(notebook)), (
        f"{lesson.notebook} is not normalised: run `course record {lesson.number}`"
    )
    sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert f'client = await lab("{lesson.package}")' in sources[0] + sources[1 if len(sources) > 1 else 0]
    for exercise in lesson.exercises:
        cells = [source for source in sources if f'check("{exercise.id}")' in source]
        assert cells, f"{lesson.notebook} has no check cell for exercise {exercise.id}"
        assert all(source.startswith(IGNORE_OUTPUT) for source in cells)
    unrun = [
        index
        for index, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code"
        and cell["execution_count"] is None
        and IGNORE_OUTPUT not in "".join(cell["source"])
    ]
    assert not unrun, f"cells {unrun} were never run, so nbval would not verify them"
