"""The cheat battery: hostile submissions earn nothing, learn nothing, leave nothing, and cost nobody else a point.

Each cheat is one trick a determined learner tried against the grader, kept here as a
regression test. They are graded in one batch with ten honest submissions, two of each
of five kinds, five before the cheats and five after: each must score exactly as its kind
does when graded alone.
"""

import os
import shutil
import sqlite3
import stat
import time
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import pytest
import redis

from course.config import get_settings
from course.grading.batch import RUN_PREFIX, Batch, Graded, GradeOptions, grade_all
from course.grading.reports import OutputDir, OutputRefused, write_reports
from course.layout import checkout_root
from course.sandboxed.jail import FIRST_UID, UID_COUNT
from course.sandboxed.zygote import UID_LOCKS, mounts_under, uids_in_use

pytestmark = [pytest.mark.embedded_only, pytest.mark.timeout(900)]
ROOT = checkout_root()
ROOT_ONLY = os.geteuid() == 0
LESSONS = ["1", "3", "4"]
L01, L03, L04 = "labs/lesson01_endpoints", "labs/lesson03_databases", "labs/lesson04_migrations"
HIDDEN_ANSWER = "hidden-7f3a9c"  # only the hidden check's source knows it
HIDDEN_INPUT = "probe-91be0d"  # only the hidden check sends it
INSTRUCTOR_SECRET = "instructor-secret-5e1f0c"  # in the grading process's environment
ROOT_DATABASE_SECRET = "root-database-secret-44aa"
HIDDEN_CHECK = f'''
import pytest


@pytest.mark.exercise("1.1", points=1)
async def test_knows_the_secret_answer(client):
    """GET /answer?question=... returns the answer only the instructor knows."""
    response = await client.get("/answer", params={{"question": "{HIDDEN_INPUT}"}})
    assert response.json() == {{"answer": "{HIDDEN_ANSWER}"}}
'''
FORBIDDEN = (HIDDEN_ANSWER, HIDDEN_INPUT, INSTRUCTOR_SECRET, ROOT_DATABASE_SECRET, "root:", "GET /answer?question")


def trick(code: str, lesson: str = L01) -> dict[str, str]:
    """Run ``code`` when the learner's lab package is imported."""
    return {f"{lesson}/__init__.py": code}


def answering(body: str) -> dict[str, str]:
    """A lesson 01 app whose every route answers ``body`` (Python code for a string), after ``setup``."""
    app = (
        "from fastapi import FastAPI\nfrom fastapi.responses import PlainTextResponse\n\n\n"
        "def create_app():\n    app = FastAPI()\n\n"
        "    @app.api_route('/{path:path}', methods=['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])\n"
        f"    async def anything(path: str):\n        return PlainTextResponse({body})\n\n    return app\n\n\napp = create_app()\n"
    )
    return {f"{L01}/app.py": app}


LOG_INPUTS = (  # remembers every request, in memory and in every shared place it can find
    "import glob, os\nSEEN = []\nPLACES = ['/dev/shm/course-seen', '/tmp/course-seen', os.path.expanduser('~/course-seen')]\n"
    "def remember(scope):\n    SEEN.append(scope['path'] + '?' + scope.get('query_string', b'').decode())\n"
    "    for place in PLACES:\n        try:\n            open(place, 'a').write(SEEN[-1] + '\\n')\n        except OSError:\n            pass\n"
    "def recall():\n    found = list(SEEN)\n    for place in PLACES + glob.glob('/dev/shm/*/course-seen'):\n"
    "        try:\n            found.append(open(place).read())\n        except OSError:\n            pass\n    return ' '.join(found)\n"
)
LOGGING_APP = (
    "from fastapi import FastAPI\nfrom fastapi.responses import PlainTextResponse\nfrom . import recall, remember\n\n\n"
    "def create_app():\n    app = FastAPI()\n\n    @app.middleware('http')\n    async def log(request, call_next):\n"
    "        remember(request.scope)\n        return PlainTextResponse(recall(), status_code=418)\n\n    return app\n\n\napp = create_app()\n"
)
SCAN_MEMORY = (  # reads its own environment and memory, and its parents'
    "import os, re\nFOUND = []\nfor path in ('/proc/self/environ', '/proc/1/environ', f'/proc/{os.getppid()}/environ'):\n"
    "    try:\n        FOUND.append(open(path, 'rb').read().decode(errors='replace'))\n    except OSError:\n        pass\n"
    "try:\n    mem = open('/proc/self/mem', 'rb')\n    for line in open('/proc/self/maps'):\n"
    "        start, end = (int(x, 16) for x in line.split()[0].split('-'))\n        if 'r' in line.split()[1] and end - start < 64 << 20:\n"
    "            try:\n                mem.seek(start)\n                chunk = mem.read(end - start)\n"
    "                FOUND += [m.decode() for m in re.findall(rb'instructor-secret-[0-9a-f]+', chunk)]\n"
    "            except (OSError, ValueError, OverflowError):\n                pass\nexcept OSError:\n    pass\n"
)
CLASSMATE = (  # lends itself a classmate's lesson folder
    "import glob, os\nmine = os.path.realpath(os.path.dirname(__file__))\n"
    "for pattern in ('/dev/shm/course-grade-*/submissions/*/labs/lesson01_endpoints', '/tmp/course-grade-*/submissions/*/labs/lesson01_endpoints',\n"
    "                '/dev/shm/course-grade-*/trees/*/labs/lesson01_endpoints', '/work/*/solutions/lesson01_endpoints'):\n"
    "    for other in glob.glob(pattern):\n        if os.path.realpath(other) != mine:\n            __path__[:] = [other]\n"
)
READ_HIDDEN = (  # looks for the hidden checks on disk and in every process's command line
    "import glob, os, re\nFOUND = ''\npaths = glob.glob('/tmp/course-grade-*/**/*.py', recursive=True) + glob.glob('/dev/shm/course-grade-*/**/*.py', recursive=True)\n"
    "for cmdline in glob.glob('/proc/*/cmdline'):\n    try:\n        paths += [p for p in open(cmdline, 'rb').read().decode(errors='replace').split('\\0') if p.endswith('.py')]\n"
    "    except OSError:\n        pass\nfor path in paths:\n    try:\n        FOUND += open(path).read()\n    except OSError:\n        pass\n"
    "ANSWER = (re.findall(r'hidden-[0-9a-f]+', FOUND) or [''])[0]\n"
)
DEEP_AND_WIDE = (  # leaves a 1,500-deep chain and as many directories as it may, wherever it can write
    "import os, time\nfor place in (os.environ['HOME'], '/tmp', '/dev/shm'):\n    try:\n        fd = os.open(place, os.O_RDONLY)\n"
    "        for _ in range(1500):\n            os.mkdir('d', dir_fd=fd)\n            inner = os.open('d', os.O_RDONLY, dir_fd=fd)\n            os.close(fd)\n            fd = inner\n"
    "    except OSError:\n        pass\nstop = time.monotonic() + 3\nn = 0\nwhile time.monotonic() < stop:\n    try:\n"
    "        os.mkdir(os.path.join(os.environ['HOME'], f'w{n}'))\n    except OSError:\n        break\n    n += 1\n"
)
FILL_MEMORY_DISKS = (  # writes all it can to /dev/shm and /tmp, and leaves it there
    "for place in ('/dev/shm/course-fill', '/tmp/course-fill'):\n    try:\n        with open(place, 'wb') as f:\n"
    "            for _ in range(4096):\n                f.write(b'x' * (1 << 20))\n    except OSError:\n        pass\n"
)
HUGE_RESPONSE = (
    "from fastapi import FastAPI\nfrom fastapi.responses import StreamingResponse\n\n\ndef create_app():\n    app = FastAPI()\n\n"
    "    @app.api_route('/{path:path}', methods=['GET', 'POST'])\n    async def anything(path: str):\n"
    "        async def forever():\n            for _ in range(1536):\n                yield b'x' * (1 << 20)\n"
    "        return StreamingResponse(forever())\n\n    return app\n\n\napp = create_app()\n"
)
REACH_SERVICES = (  # the machine's PostgreSQL by its unix socket and TCP, and Redis
    "import socket\ntry:\n    import psycopg\n    for dsn in ('host=/var/run/postgresql user=postgres dbname=postgres', 'host=127.0.0.1 user=postgres dbname=postgres'):\n"
    "        try:\n            with psycopg.connect(dsn, connect_timeout=2, autocommit=True) as c:\n"
    "                c.execute('CREATE TABLE IF NOT EXISTS course_cheat_reached (x int)')\n        except Exception:\n            pass\n"
    "except ImportError:\n    pass\ntry:\n    s = socket.create_connection(('127.0.0.1', 6379), timeout=2)\n"
    "    s.sendall(b'SET course:cheat:reached yes\\r\\n')\n    s.close()\nexcept OSError:\n    pass\n"
)
# Dodges the counted database: keeps its books in a file of its own, and pokes at the gateway's control socket.
DODGE_COUNTING = (
    "import glob, socket\nfor path in glob.glob('/dev/shm/**/control.sock', recursive=True):\n    try:\n"
    '        s = socket.socket(socket.AF_UNIX)\n        s.connect(path)\n        s.sendall(b\'{"op": "count"}\\n\')\n    except OSError:\n        pass\n'
)


def swap_after_alembic(target: str, missing: str) -> str:
    """env.py code: a grandchild that outlives Alembic swaps the database for links, and races root with exchanges."""
    return (
        "import ctypes, os, time\nif os.fork() == 0:\n    os.setsid()\n    url = os.environ.get('BOOKLY_DATABASE_URL', '')\n"
        "    folder = os.path.dirname(url.split('///', 1)[-1])\n    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    stop = time.monotonic() + 6\n    while time.monotonic() < stop:\n        try:\n"
        "            os.replace(os.path.join(folder, 'db.sqlite'), os.path.join(folder, 'real'))\n        except OSError:\n            pass\n"
        f"        for name, where in (('db.sqlite', {target!r}), ('db.sqlite-wal', {missing!r})):\n            try:\n"
        "                os.symlink(where, os.path.join(folder, name))\n            except OSError:\n                pass\n"
        "        libc.syscall(316, -100, os.path.join(folder, 'real').encode(), -100, os.path.join(folder, 'db.sqlite').encode(), 2)\n"
        "        time.sleep(0.001)\n    os._exit(0)\n"
    )


NEVER_ENDING_VIEW = (  # after migrating, the books table becomes a view that never ends
    "from sqlalchemy import create_engine, text\nfrom labs.lesson04_migrations.config import Settings\n"
    "_engine = create_engine(Settings().database_url)\ntry:\n    with _engine.begin() as c:\n"
    "        for name in ('books', 'book'):\n            c.execute(text(f'DROP TABLE IF EXISTS {name}'))\n"
    "            c.execute(text(f'CREATE VIEW {name} AS WITH RECURSIVE r(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM r) SELECT id, id AS title FROM r'))\n"
    "except Exception:\n    pass\n"
)


def env_py(addition: str) -> dict[str, str]:
    """The solution's env.py with ``addition`` after it: the attack runs on a lab whose checks get that far."""
    path = f"{L04}/migrations/env.py"
    return {path: (ROOT / "solutions" / "lesson04_migrations" / "migrations" / "env.py").read_text() + "\n" + addition}


# Built on the solutions, so that the checks really read what the attack left: they may earn what the
# solution earns where the attack did not reach, and nothing more.
ON_SOLUTIONS = {"swap-database", "exchange-race", "never-ending-view"}


def cheats(secret_db: Path, root_target: Path, missing: Path) -> dict[str, dict[str, str]]:
    return {
        "conftest": {
            "labs/conftest.py": "import pytest\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
            "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n",
            f"{L01}/conftest.py": "def pytest_collection_modifyitems(items):\n    items.clear()\n",
        },
        "monkeypatch": trick(
            "import sys, httpx, pytest\nimport course.pytest_plugin as p\n"
            "httpx.Response.status_code = property(lambda self: 200)\npytest.fail = lambda *a, **k: None\n"
            "p._failure_message = lambda *a: ''\nsys.modules['course.checks'] = None\n"
        ),
        "exit-at-import": trick("import os\nos._exit(0)\n"),
        "sys-exit": trick("import sys\nsys.exit(0)\n"),
        "fake-results": trick(
            "import glob, json, os\nfake = json.dumps({'checks': [{'nodeid': 'x', 'exercise': '1.1', 'outcome': 'passed'}]})\n"
            "for pattern in ('/tmp/course-grade-*/trusted/reports/*/*.json', '/dev/shm/course-grade-*/trusted/reports/*/*.json',\n"
            "                '/tmp/gradebook.csv', os.path.join(os.environ.get('COURSE_ROOT', '/'), '..', 'results.json')):\n"
            "    for path in glob.glob(pattern) or [pattern]:\n        try:\n            open(path, 'w').write(fake)\n        except OSError:\n            pass\n"
        ),
        "read-hidden": {
            **trick(READ_HIDDEN),
            **answering("'{\"answer\": \"' + __import__('labs.lesson01_endpoints').lesson01_endpoints.ANSWER + '\"}'"),
        },
        "classmate": trick(CLASSMATE),
        "log-inputs": {**trick(LOG_INPUTS), f"{L01}/app.py": LOGGING_APP},
        "environment": {
            **trick(SCAN_MEMORY),
            **answering("' '.join(__import__('labs.lesson01_endpoints').lesson01_endpoints.FOUND)"),
        },
        "services": trick(REACH_SERVICES),
        "sleep-at-import": trick("import time\ntime.sleep(3600)\n"),
        "loop-at-import": trick("while True:\n    pass\n"),
        "loop-in-handler": {
            f"{L01}/users.py": (ROOT / L01 / "users.py")
            .read_text()
            .replace("    # Exercise 1.1", "    while True:\n        pass\n    # Exercise 1.1")
        },
        "fork-bomb": trick("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"),
        "memory": trick("hoard = []\nwhile True:\n    hoard.append(bytearray(256 * 1024 * 1024))\n"),
        "output-flood": trick("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"),
        "log-link": trick(  # the grader quotes a failed start's log: make the log a secret
            "import os\nlog = os.path.join(os.environ['HOME'], 'output.log')\nos.remove(log)\nos.symlink('/etc/shadow', log)\nraise SystemExit(1)\n"
        ),
        "always-200": answering("'{}'"),
        "huge-response": {f"{L01}/app.py": HUGE_RESPONSE},
        "deep-and-wide": trick(DEEP_AND_WIDE),
        "fill-memory-disks": trick(FILL_MEMORY_DISKS),
        "dodge-counting": {
            **trick(DODGE_COUNTING, L03),
            f"{L03}/app.py": (ROOT / L03 / "app.py")
            .read_text()
            .replace("settings.database_url", "'sqlite:////tmp/mine.sqlite'"),
        },
        "swap-database": env_py(swap_after_alembic(str(secret_db), str(missing))),
        "exchange-race": env_py(swap_after_alembic(str(root_target), str(missing))),
        "never-ending-view": env_py(NEVER_ENDING_VIEW),
    }


def submission(
    tmp_path: Path, name: str, source: str = "labs", files: dict[str, str] | None = None, only_touched: bool = False
) -> Path:
    """A directory submission: a copy of the starter (or solutions) with some files replaced.

    With ``only_touched``, it holds only the lessons its files change (lesson 01 at least),
    so that a cheat costs the battery the time of the lesson it attacks.
    """
    target = tmp_path / name
    touched = {Path(path).parts[1] for path in files or {} if len(Path(path).parts) > 2} or {"lesson01_endpoints"}

    def kept(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if folder == str(ROOT / source) and n.startswith("lesson") and n not in touched]

    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(
        ROOT / source, target / "labs", ignore=(lambda f, n: [*ignore(f, n), *kept(f, n)]) if only_touched else ignore
    )
    for relative, text in (files or {}).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return target


def refused_submissions(tmp_path: Path) -> dict[str, Path]:
    """Submissions the grader must refuse before any code runs: each would once have aborted the batch."""
    found = {}
    tmp_path.mkdir(parents=True, exist_ok=True)
    big = tmp_path / "big-zip.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("labs/lesson01_endpoints/blob.bin", os.urandom(65 * 1024**2))
    found["big-zip"] = big
    long_name = tmp_path / "long-name.zip"
    with zipfile.ZipFile(long_name, "w") as archive:
        archive.writestr("labs/lesson01_endpoints/__init__.py", "")
        archive.writestr(f"labs/lesson01_endpoints/{'n' * 300}.py", "")
    found["long-name"] = long_name
    fifo = submission(tmp_path, "fifo")
    os.mkfifo(fifo / L01 / "pipe")
    found["fifo"] = fifo
    linked_file = submission(tmp_path, "link-to-root-file")
    (linked_file / L01 / "notes.txt").symlink_to("/etc/shadow")
    found["link-to-root-file"] = linked_file
    linked_lesson = submission(tmp_path, "linked-lesson")
    shutil.rmtree(linked_lesson / L01)
    (linked_lesson / L01).symlink_to(ROOT / "solutions" / "lesson01_endpoints", target_is_directory=True)
    found["linked-lesson"] = linked_lesson
    return found


HONEST_REVERTS = [None, f"{L01}/users.py", f"{L01}/trades.py", f"{L03}/service.py", f"{L04}/service.py"]


def honest_class(tmp_path: Path) -> list[Path]:
    """Ten honest learners, two of each kind: the solutions, with one exercise or another still the starter's.

    Learner ``honest-NN`` is a copy of ``honest-0K`` for K = NN modulo the number of kinds.
    """
    honest = []
    for index in range(2 * len(HONEST_REVERTS)):
        reverted = HONEST_REVERTS[index % len(HONEST_REVERTS)]
        files = {reverted: (ROOT / reverted).read_text()} if reverted and (ROOT / reverted).exists() else {}
        honest.append(submission(tmp_path / "honest", f"honest-{index:02d}", "solutions", files))
    return honest


def verdicts(outcomes) -> dict[tuple[str, str, str], str]:
    return {(o.learner, o.exercise, o.check): o.status for o in outcomes}


def messages(graded: Graded, key: tuple[str, ...]) -> str:
    """What a check said, for a failure message: why it failed, or nothing."""
    return " ".join(o.message for o in graded.outcomes if (o.learner, o.exercise, o.check) == key)


def original_of(learner: str) -> str:
    """The first honest learner with the same work as ``learner``."""
    return f"honest-{int(learner.removeprefix('honest-')) % len(HONEST_REVERTS):02d}"


def sandbox_files(place: Path, since: float, ours: Sequence[Path] = ()) -> list[str]:
    """Files a jail left in ``place`` since the test began (other runs on this machine may have left older ones).

    Another test's grading run, going on beside this one, has files of sandbox uids in its
    own scratch directory: only this test's runs (``ours``) are looked into.
    """
    found = []
    for directory, folders, files in os.walk(place):  # other tests create and remove files meanwhile: no error
        folders[:] = [name for name in folders if not name.startswith(RUN_PREFIX) or Path(directory, name) in ours]
        for name in [*folders, *files]:
            try:
                info = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if FIRST_UID <= info.st_uid < FIRST_UID + UID_COUNT and info.st_mtime >= since:
                found.append(os.path.join(directory, name))
    return found[:10]


def uid_held(uid: int) -> bool:
    """Whether a running grader's zygote holds this sandbox uid (other tests grade at the same time)."""
    import fcntl

    lock = os.open(UID_LOCKS / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(lock)
    return False


@pytest.fixture
def grading_runs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The scratch directories of this test's grading runs, recorded as each run begins."""
    runs: list[Path] = []
    begin = Batch.__init__

    def recording(batch: Batch, options: GradeOptions) -> None:
        begin(batch, options)
        runs.append(batch.base)

    monkeypatch.setattr(Batch, "__init__", recording)
    return runs


@pytest.fixture
def root_only(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A root-only database holding a secret, a root-owned file, and a path that must never be created."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    secret_db = private / "secret.sqlite"
    with sqlite3.connect(secret_db) as connection:
        connection.execute("CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT)")
        connection.execute("INSERT INTO books (title) VALUES (?)", (ROOT_DATABASE_SECRET,))
    secret_db.chmod(0o600)
    target = private / "root-owned"
    target.write_text("root's own")
    target.chmod(0o600)
    return secret_db, target, private / "created-by-cheat"


@pytest.mark.long
def test_the_battery_earns_nothing_leaks_nothing_leaves_nothing_and_costs_nobody_a_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root_only: tuple[Path, Path, Path], grading_runs: list[Path]
) -> None:
    began = time.time()
    monkeypatch.setenv("COURSE_TEST_INSTRUCTOR_SECRET", INSTRUCTOR_SECRET)
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_lesson01_endpoints.py").write_text(HIDDEN_CHECK)
    honest = honest_class(tmp_path)
    # 10 s a check: an honest check of lesson 04 runs up to six Alembic commands (three on each database in
    # services mode), which a 2-core machine running the rest of the suite beside it slows several times over.
    options = GradeOptions(lessons=LESSONS, hidden=hidden, check_timeout=10, submission_timeout=120, jobs=2)
    # Each kind of honest work graded alone: what every copy of it must score among the cheats.
    graded_alone = grade_all(honest[: len(HONEST_REVERTS)], options)
    alone = verdicts(graded_alone.outcomes)
    hostile = [
        submission(tmp_path / "cheats", name, "solutions" if name in ON_SOLUTIONS else "labs", files, only_touched=True)
        for name, files in cheats(*root_only).items()
    ]
    refused = refused_submissions(tmp_path / "refused")
    started = time.monotonic()
    graded = grade_all([*honest[:5], *hostile, *refused.values(), *honest[5:]], options)
    elapsed = time.monotonic() - started

    mixed = verdicts(graded.outcomes)
    honest_mixed = {key: value for key, value in mixed.items() if key[0].startswith("honest")}
    expected = {
        (learner.name, *check): status
        for learner in honest
        for (original, *check), status in alone.items()
        if original == original_of(learner.name)
    }
    assert honest_mixed == expected, "a cheat cost an honest learner (or honest work failed alone): " + "; ".join(
        f"{key}: {status} among the cheats ({messages(graded, key)!r}), {expected.get(key)} alone"
        f" ({messages(graded_alone, (original_of(key[0]), *key[1:]))!r})"
        for key, status in honest_mixed.items()
        if status != expected.get(key)
    )
    earned: dict[str, int] = defaultdict(int)
    for outcome in graded.outcomes:
        earned[outcome.learner] += outcome.earned
    full = {o.learner: o.points for o in graded.outcomes if o.learner == "honest-00"}
    cheaters = {
        name: points
        for name, points in earned.items()
        if not name.startswith("honest") and points and name not in ON_SOLUTIONS
    }
    assert not cheaters, f"cheats earned points: {cheaters}"
    lesson04 = {
        o.learner: o for o in graded.outcomes if o.learner == "never-ending-view" and o.lesson == "lesson04_migrations"
    }
    assert lesson04 and earned["never-ending-view"] < earned["honest-00"], "the never-ending view kept its points"
    assert full, "honest-00 was graded"
    messages = {o.learner: o.message for o in graded.outcomes if o.learner in refused}
    assert "link" in messages["link-to-root-file"] and "link" in messages["linked-lesson"], messages
    assert "not a regular file" in messages["fifo"] and "MB" in messages["big-zip"], messages
    assert "longer than" in messages["long-name"], messages

    write_reports(graded.outcomes, tmp_path / "grades", notes=graded.shortfalls)
    for written in (tmp_path / "grades").rglob("*.*"):
        text = written.read_text()
        leaked = [secret for secret in FORBIDDEN if secret in text]
        assert not leaked, f"{written.name} shows {leaked}"

    assert elapsed < 600, f"the battery took {elapsed:.0f} s"
    _, root_target, missing = root_only
    assert not missing.exists(), "root created a file where a learner's link pointed"
    if ROOT_ONLY:
        assert root_target.stat().st_uid == 0 and stat.S_IMODE(root_target.stat().st_mode) == 0o600
        deadline = time.monotonic() + 5  # a killed process may take a moment to finish dying
        while (survivors := [uid for uid in uids_in_use() if not uid_held(uid)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not survivors, f"processes of sandbox uids {survivors} outlived the grading"
        left = sandbox_files(Path("/dev/shm"), began, grading_runs) + sandbox_files(Path("/tmp"), began, grading_runs)
        assert not left, f"a jail left files behind: {left}"
        # Only this test's runs: another test may be grading, with its owners' tmpfs mounted, right now.
        mounts = mounts_under(*grading_runs)
        assert not mounts, f"a grading run left mounts behind: {mounts}"
        # What a run wrote in /dev/shm is in its scratch directory; another test's run may be filling its own.
        assert not [run for run in grading_runs if run.exists()], "a grading run left its scratch directory"
    if get_settings().services != "skip":
        try:
            reached = redis.Redis.from_url(get_settings().redis_url, socket_timeout=2).get("course:cheat:reached")
        except redis.RedisError:
            reached = None
        assert reached is None, "a jailed app reached this machine's Redis"
        try:
            import psycopg

            with psycopg.connect(
                "host=/var/run/postgresql user=postgres dbname=postgres", connect_timeout=2
            ) as connection:
                table = connection.execute("SELECT to_regclass('course_cheat_reached')").fetchone()
            assert table == (None,), "a jailed app reached this machine's PostgreSQL"
        except psycopg.OperationalError:
            pass


def test_reports_go_only_into_a_directory_of_the_graders_own(tmp_path: Path) -> None:
    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    with pytest.raises(OutputRefused, match="others may write"):
        OutputDir(open_to_all)
    linked = tmp_path / "linked"
    linked.symlink_to(tmp_path / "elsewhere-missing")
    with pytest.raises(OutputRefused):
        OutputDir(linked)
    if ROOT_ONLY:
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        # Another user, outside the sandbox uids: the battery beside it looks for files of those.
        os.chown(theirs, FIRST_UID - 1, FIRST_UID - 1)
        with pytest.raises(OutputRefused, match="belongs to someone else"):
            OutputDir(theirs)
    planted = tmp_path / "planted"
    planted.mkdir()
    os.mkfifo(planted / "gradebook.csv")  # opening it to write would block until someone reads
    with pytest.raises(OSError):
        write_reports([], planted)
