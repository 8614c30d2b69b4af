"""course submit and course grade: honest scores, the same verdicts as self-checks, and a cheat battery."""

import fcntl
import json
import os
import shutil
import subprocess
import time
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
import redis

from course.checks import run_checks
from course.grading.reports import write_reports
from course.grading.runner import GradeOptions, GradingError, grade_all
from course.grading.sandbox import FIRST_UID, UID_COUNT, is_root, processes_of
from course.grading.submission import MANIFEST, pack
from course.grading.zygote import UID_LOCKS
from course.layout import checkout_root, lessons
from course.settings import get_settings

pytestmark = [pytest.mark.embedded_only, pytest.mark.timeout(600)]
ROOT = checkout_root()
LESSON01 = "labs/lesson01_endpoints"
STARTER = ROOT.name  # the starter labs/ is graded under its checkout's name


def totals(outcomes) -> dict[str, int]:
    earned: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        earned[outcome.learner] += outcome.earned
    return dict(earned)


def max_points(lesson_numbers: list[str]) -> int:
    return sum(exercise.points for lesson in lessons() if str(lesson.number) in lesson_numbers for exercise in lesson.exercises)


def submission(tmp_path: Path, name: str, source: str = "labs", files: dict[str, str] | None = None) -> Path:
    """A directory submission: a copy of the starter (or solutions) with some files replaced."""
    target = tmp_path / name
    shutil.copytree(ROOT / source, target / "labs", ignore=shutil.ignore_patterns("__pycache__"))
    for relative, text in (files or {}).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return target


def test_solutions_score_full_starter_zero_and_a_reverted_exercise_loses_exactly_its_points(tmp_path: Path) -> None:
    reverted = submission(tmp_path, "reverted", "solutions", {f"{LESSON01}/users.py": (ROOT / LESSON01 / "users.py").read_text()})
    outcomes = grade_all([ROOT / "solutions", ROOT / "labs", reverted], GradeOptions(lessons=["1", "2"]))
    full = max_points(["1", "2"])
    exercise_11 = next(e.points for e in lessons()[0].exercises if e.id == "1.1")
    assert totals(outcomes) == {"solutions": full, STARTER: 0, "reverted": full - exercise_11}
    lost = {o.exercise for o in outcomes if o.learner == "reverted" and not o.earned}
    assert lost == {"1.1"}


def test_grading_gives_the_same_verdicts_as_the_in_process_self_check() -> None:
    graded = grade_all([ROOT / "solutions", ROOT / "labs"], GradeOptions())
    by_socket = {(o.learner, o.exercise, o.check): o.status == "passed" for o in graded}
    for learner, impl in (("solutions", "solutions"), (STARTER, ROOT / "labs")):
        in_process = {(learner, r.exercise, r.name): r.passed for r in run_checks(impl=impl).results}
        assert {key: value for key, value in by_socket.items() if key[0] == learner} == in_process, learner
    assert {o.lesson for o in graded} == {lesson.package for lesson in lessons()}


def test_submit_packs_only_labs_with_a_manifest_and_the_zip_grades(tmp_path: Path) -> None:
    archive = pack("Ada Lovelace", ROOT / "solutions", tmp_path)
    assert archive.name == "Ada-Lovelace.zip"
    with zipfile.ZipFile(archive) as packed:
        names = packed.namelist()
        manifest = json.loads(packed.read(MANIFEST))
    assert all(name == MANIFEST or name.startswith("labs/") for name in names)
    assert set(manifest["files"]) == set(names) - {MANIFEST} and manifest["name"] == "Ada Lovelace"
    outcomes = grade_all([archive], GradeOptions(exercises=["1.1"]))
    assert {(o.learner, o.exercise, o.status) for o in outcomes} == {("Ada-Lovelace", "1.1", "passed")}


HIDDEN_TOKEN = "hidden-7f3a9c"
HIDDEN_CHECK = f'''
import pytest


@pytest.mark.exercise("1.1", points=1)
async def test_knows_the_secret_answer(client):
    """GET /answer returns the secret answer."""
    assert (await client.get("/answer")).json() == {{"answer": "{HIDDEN_TOKEN}"}}
'''
PLANTED = f"{LESSON01}/__init__.py"
ROUTES = f"{LESSON01}/users.py"


def _trick(code: str) -> dict[str, str]:
    """Run ``code`` when the learner's lab package is imported."""
    return {PLANTED: code}


CHEATS: dict[str, dict[str, str]] = {
    "conftest": {
        "labs/conftest.py": "import pytest\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n",
        f"{LESSON01}/conftest.py": "def pytest_collection_modifyitems(items):\n    items.clear()\n",
    },
    "monkeypatch": _trick(
        "import sys, httpx, pytest\nimport course.pytest_plugin as p\n"
        "httpx.Response.status_code = property(lambda self: 200)\npytest.fail = lambda *a, **k: None\n"
        "p._failure_message = lambda *a: ''\nsys.modules['course.checks'] = None\n"
    ),
    "exit-at-import": _trick("import os\nos._exit(0)\n"),
    "sys-exit": _trick("import sys\nsys.exit(0)\n"),
    "fake-results": _trick(
        "import glob, json, os\n"
        "fake = json.dumps({'checks': [{'nodeid': 'x', 'exercise': '1.1', 'outcome': 'passed'}]})\n"
        "for pattern in ('/tmp/course-grade-*/trusted/reports/*/*.json', '/dev/shm/course-grade-*/trusted/reports/*/*.json',\n"
        "                '/tmp/gradebook.csv', os.path.join(os.environ.get('COURSE_ROOT', '/'), '..', 'results.json')):\n"
        "    for path in glob.glob(pattern) or [pattern]:\n"
        "        try:\n            open(path, 'w').write(fake)\n        except OSError:\n            pass\n"
    ),
    "read-hidden": {
        PLANTED: "import glob\nFOUND = ''\n"
        "for path in glob.glob('/tmp/course-grade-*/**/*.py', recursive=True) + glob.glob('/dev/shm/course-grade-*/**/*.py', recursive=True):\n"
        "    try:\n        FOUND += open(path).read()\n    except OSError:\n        pass\n",
        f"{LESSON01}/app.py": (ROOT / LESSON01 / "app.py").read_text().replace(
            "    return app\n",
            "    import re\n    from . import FOUND\n    token = re.findall(r'hidden-[0-9a-f]+', FOUND)\n"
            "    app.add_api_route('/answer', lambda: {'answer': token[0] if token else ''})\n    return app\n",
        ),
    },
    "sleep-at-import": _trick("import time\ntime.sleep(3600)\n"),
    "loop-at-import": _trick("while True:\n    pass\n"),
    "loop-in-handler": {
        ROUTES: (ROOT / LESSON01 / "users.py").read_text().replace(
            "    # Exercise 1.1", "    while True:\n        pass\n    # Exercise 1.1"
        )
    },
    "fork-bomb": _trick("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"),
    "memory": _trick("hoard = []\nwhile True:\n    hoard.append(bytearray(256 * 1024 * 1024))\n"),
    "output-flood": _trick("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"),
    "network": _trick(
        "import socket\nfor port in (6379, 5432):\n    try:\n"
        "        s = socket.create_connection(('127.0.0.1', port), timeout=2)\n"
        "        s.sendall(b'SET course:cheat:reached yes\\r\\n') if port == 6379 else None\n        s.close()\n"
        "    except OSError:\n        pass\n"
    ),
    "log-link": _trick(  # the grader quotes a failed start's log: make the log a secret
        "import os\nlog = os.path.join(os.environ['HOME'], 'output.log')\nos.remove(log)\n"
        "os.symlink('/etc/shadow', log)\nraise SystemExit(1)\n"
    ),
    "always-200": {
        f"{LESSON01}/app.py": "from fastapi import FastAPI\n\n\ndef create_app():\n    app = FastAPI()\n\n"
        "    @app.api_route('/{path:path}', methods=['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'])\n"
        "    async def anything(path: str):\n        return {}\n\n    return app\n\n\napp = create_app()\n",
    },
}


def uid_held(uid: int) -> bool:
    """Whether a running grader's zygote holds this sandbox uid."""
    lock = os.open(UID_LOCKS / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(lock)  # closing drops the lock again
    return False


def test_the_cheat_battery_earns_nothing_and_leaves_the_batch_intact(tmp_path: Path) -> None:
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_lesson01_endpoints.py").write_text(HIDDEN_CHECK)
    cheats = [submission(tmp_path, name, files=files) for name, files in CHEATS.items()]
    options = GradeOptions(lessons=["1"], hidden=hidden, check_timeout=4, submission_timeout=120, jobs=2)
    started = time.monotonic()
    outcomes = grade_all([ROOT / "solutions", *cheats], options)
    elapsed = time.monotonic() - started
    earned = totals(outcomes)
    assert earned.pop("solutions") == max_points(["1"]), "an honest submission in the same batch lost points"
    assert earned == {name: 0 for name in CHEATS}, {name: points for name, points in earned.items() if points}
    assert elapsed < 240, f"the battery took {elapsed:.0f} s"
    assert any(o.hidden for o in outcomes), "the hidden check was not graded"
    write_reports(outcomes, tmp_path / "grades")
    for written in (tmp_path / "grades").rglob("*.*"):
        text = written.read_text()
        assert HIDDEN_TOKEN not in text and "GET /answer returns" not in text, f"{written.name} reveals the hidden check"
        assert "root:" not in text, f"{written.name} quotes /etc/shadow"
    if get_settings().services != "skip":
        try:
            reached = redis.Redis.from_url(get_settings().redis_url, socket_timeout=2).get("course:cheat:reached")
        except redis.RedisError:
            reached = None
        assert reached is None, "a sandboxed app reached this machine's Redis"
    # Other tests grade at the same time: a uid another zygote holds is theirs, not a leftover.
    survivors = [uid for uid in range(FIRST_UID, FIRST_UID + UID_COUNT) if processes_of(uid) and not uid_held(uid)]
    survivors = survivors if is_root() else []
    assert not survivors, f"processes of sandbox uids {survivors} outlived the grading"


def test_distributed_grading_on_two_workers_gives_the_local_gradebook(tmp_path: Path) -> None:
    import signal
    import sys

    from course.grading.distributed import grade_distributed
    from course.resources import services_status

    reachable, why = services_status()
    if not reachable:
        if get_settings().services == "required":
            pytest.fail(why)
        pytest.skip(why)
    broker = get_settings().redis_url.rsplit("/", 1)[0] + "/15"  # a database of its own for the queue
    queue = f"course.grading.test-{os.getpid()}-{time.time_ns()}"  # so no other run's workers take its tasks
    course = Path(sys.executable).parent / "course"
    workers = [
        subprocess.Popen([str(course), "grade-worker", "--broker", broker, "--queue", queue], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        for _ in range(2)
    ]
    try:
        reverted = submission(tmp_path, "reverted", "solutions", {f"{LESSON01}/users.py": (ROOT / LESSON01 / "users.py").read_text()})
        paths = [ROOT / "solutions", ROOT / "labs", reverted]
        options = GradeOptions(lessons=["1", "2"])
        write_reports(grade_distributed(paths, options, broker, queue=queue), tmp_path / "distributed")
        write_reports(grade_all(paths, options), tmp_path / "local")
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(30)
    distributed = (tmp_path / "distributed" / "gradebook.csv").read_text()
    assert distributed == (tmp_path / "local" / "gradebook.csv").read_text()
    assert "reverted,lesson01_endpoints,1.1,0," in distributed


def test_the_grade_command_writes_every_output_and_regrades_one_learner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from course.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    submitted = runner.invoke(app, ["submit", "--name", "grace"])
    assert submitted.exit_code == 0 and (tmp_path / "submissions" / "grace.zip").is_file()
    out = tmp_path / "grades"
    args = ["grade", str(tmp_path / "submissions" / "grace.zip"), str(ROOT / "solutions"), "--out", str(out)]
    result = runner.invoke(app, [*args, "--exercise", "1.1", "--only", "solutions"])
    assert result.exit_code == 0, result.output
    assert (out / "gradebook.csv").read_text().splitlines() == [
        "learner,lesson,exercise,points,max_points,status",
        "solutions,lesson01_endpoints,1.1,2,2,passed",
    ]
    assert {p.name for p in out.iterdir()} == {"gradebook.csv", "results.json", "feedback", "report.html"}


def test_a_check_module_that_cannot_load_is_the_graders_failure(tmp_path: Path) -> None:
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_lesson01_endpoints.py").write_text("this is not python\n")
    with pytest.raises(GradingError, match="could not be collected|failed before grading"):
        grade_all([ROOT / "solutions"], GradeOptions(lessons=["1"], hidden=hidden))


def test_a_check_that_hangs_its_worker_costs_only_that_lesson_of_that_submission(tmp_path: Path) -> None:
    """A blocking check outlives its timeout: pytest-timeout ends the worker, and a new one goes on."""
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_lesson01_endpoints.py").write_text(
        "import time\n\nimport pytest\n\n\n@pytest.mark.exercise('1.1', points=1)\n"
        "def test_blocks_the_worker():\n    '''Blocks without yielding to the event loop.'''\n    time.sleep(120)\n"
    )
    options = GradeOptions(lessons=["1", "2"], hidden=hidden, check_timeout=1, jobs=1)
    outcomes = grade_all([ROOT / "solutions"], options)
    blocked = [o for o in outcomes if o.hidden]
    others = [o for o in outcomes if not o.hidden]
    assert [(o.status, o.earned) for o in blocked] == [("error", 0)], blocked
    assert "stopped while grading" in blocked[0].message
    assert {o.lesson for o in others} == {"lesson01_endpoints", "lesson02_validation"}
    assert all(o.status == "passed" for o in others), "the checks before it, or the next lesson, lost points"


def test_a_grade_worker_task_gives_what_local_grading_gives(tmp_path: Path) -> None:
    """The Celery task body, called directly: no broker needed to check what a worker returns."""
    from course.grading.distributed import TASK, _options_to_json, _zip_directory, grade_submission, make_app

    assert make_app("memory://", "class-a").conf.task_default_queue == "class-a"
    assert TASK in make_app("memory://").tasks
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_lesson01_endpoints.py").write_text(HIDDEN_CHECK)
    options = GradeOptions(exercises=["1.1"], hidden=hidden)
    reverted = submission(tmp_path, "reverted", "solutions", {f"{LESSON01}/users.py": (ROOT / LESSON01 / "users.py").read_text()})
    payload = {path.name: path.read_text() for path in hidden.glob("*.py")}
    rows = grade_submission("reverted", _zip_directory(reverted / "labs"), _options_to_json(options), payload)
    local = grade_all([reverted], options)
    keys = ("learner", "exercise", "check", "status", "hidden")
    assert sorted(tuple(row[key] for key in keys) for row in rows) == sorted(
        tuple(getattr(outcome, key) for key in keys) for outcome in local
    )
    assert {row["status"] for row in rows if not row["hidden"]} == {"failed"}  # 1.1 reverted to the starter
