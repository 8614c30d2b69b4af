"""pytest plugin for graded checks: the ``exercise`` marker, lab fixtures and a JSON report.

A check is an async test marked ``@pytest.mark.exercise("1.2", points=2)``; its
docstring is the requirement a learner reads. ``client`` is an ``httpx.AsyncClient``
bound to the lab of the check's lesson, found from the module name
``test_lessonNN_slug``.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

# jsonschema imports rfc3987-syntax when it is installed, and that compiles a grammar
# for over a second. Notebooks never use IRI formats, so nbval's nbformat goes without.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None: "do not import it", on purpose

from .advice import advice, category_name, merge  # noqa: E402 - after the stub above
from .config import CHECK_TIMEOUT  # noqa: E402 - after the stub above
from .harness import AppReport, CountedDatabase, SharedDirectory, open_lab  # noqa: E402 - after the stub above
from .harness import counted_database as open_counted_database  # noqa: E402 - after the stub above
from .harness import shared_directory as open_shared_directory  # noqa: E402 - after the stub above
from .layout import lesson_of_module, tree_root  # noqa: E402 - after the stub above

MESSAGE_LIMIT = 2000
APP_REPORT = pytest.StashKey[AppReport]()  # what the check's apps raised and warned about
LabFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("course", "FastAPI Course Lab")
    group.addoption("--course-report", metavar="PATH", help="write check results as JSON to PATH")
    group.addoption(
        "--course-exercise",
        action="append",
        default=[],
        metavar="ID",
        help="run only the checks of exercise ID (repeatable)",
    )
    group.addoption(
        "--course-check-timeout",
        type=float,
        default=CHECK_TIMEOUT,
        metavar="SECONDS",
        help="cancel an async check after SECONDS (default %(default)s)",
    )
    group.addoption("--course-timing", metavar="PATH", help="write per-file wall and call times as JSON to PATH")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "exercise(id, points=1): a graded check of exercise ID worth POINTS points")
    config.stash[_RESULTS] = []
    config.stash[_TIMING] = {}


_RESULTS = pytest.StashKey[list[dict[str, Any]]]()
_TIMING = pytest.StashKey[dict[str, dict[str, float]]]()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Per file: first start, last stop, and the summed time of the calls themselves."""
    config = _config
    if config is None or not config.getoption("course_timing"):
        return
    timing = config.stash[_TIMING].setdefault(
        report.location[0], {"start": report.start, "stop": report.stop, "calls": 0.0, "items": 0}
    )
    timing["start"] = min(timing["start"], report.start)
    timing["stop"] = max(timing["stop"], report.stop)
    if report.when == "call":
        timing["calls"] += report.duration
        timing["items"] += 1


_config: pytest.Config | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    global _config
    _config = session.config


def exercise_of(item: pytest.Item) -> tuple[str, int] | None:
    marker = item.get_closest_marker("exercise")
    if marker is None:
        return None
    return str(marker.args[0]), int(marker.kwargs.get("points", 1))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("course_report"):
        for item in items:
            if exercise_of(item) is not None:
                # A check run reads verdicts and messages from its report. pytest's own traceback of a
                # failed check reads back the source of every frame: it cost more than many checks.
                setattr(item, "repr_failure", functools.partial(_failure_message, item))  # noqa: B010
    wanted = set(config.getoption("course_exercise"))
    if not wanted:
        return
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        marker = exercise_of(item)
        (selected if marker and marker[0] in wanted else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def lesson_of(module_name: str) -> str:
    """``tests.exercises.test_lesson01_endpoints`` → ``lesson01_endpoints``."""
    if (lesson := lesson_of_module(module_name)) is None:
        raise pytest.UsageError(f"{module_name}: lab fixtures need a module named test_lessonNN_slug")
    return lesson.package


def app_report(item: pytest.Item) -> AppReport:
    """What the apps of this check raised and warned about, collected while it runs."""
    return item.stash.setdefault(APP_REPORT, AppReport())


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> LabFactory:
    """Open the check's lab with extra environment: ``async with lab(env={...}) as client``."""
    lesson = lesson_of(request.module.__name__)
    report = app_report(request.node)

    def open_with(env: Mapping[str, str] | None = None) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        # Import once per session: edits are picked up by the next check run, a new process.
        return open_lab(lesson, env=env, fresh=False, report=report)

    return open_with


@pytest.fixture
def counted_database() -> Iterator[CountedDatabase]:
    """A database whose SQL statements are counted where the app cannot reach: give the app its ``url``.

    In a self-check the count comes from SQLAlchemy in this process; under the grader, from
    a gateway process that holds the file, so no lab can make its own count up.
    """
    with open_counted_database() as database:
        yield database


@pytest.fixture
def shared_directory() -> Iterator[SharedDirectory]:
    """A directory to give the app (its ``path``, through ``lab(env=...)``); ``files()`` reads it from outside."""
    with open_shared_directory() as directory:
        yield directory


@pytest.fixture
async def client(lab: LabFactory) -> AsyncIterator[httpx.AsyncClient]:
    """An ``httpx.AsyncClient`` talking to a fresh instance of the lesson's app."""
    async with lab() as client:
        yield client


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Any:
    """Cancel an async test that runs too long, cleanly, so its teardown still runs.

    pytest-timeout stays the backstop for code that blocks the event loop.
    """
    test = pyfuncitem.obj
    if not inspect.iscoroutinefunction(test):
        return (yield)
    limit = pyfuncitem.config.getoption("course_check_timeout")

    @functools.wraps(test)
    async def bounded(*args: Any, **kwargs: Any) -> Any:
        with anyio.move_on_after(limit):
            return await test(*args, **kwargs)
        pytest.fail(f"Timeout: no answer within {limit:g} s; is the app waiting for something?", pytrace=False)

    pyfuncitem.obj = bounded
    try:
        return (yield)
    finally:
        pyfuncitem.obj = test


def _failure_message(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    error = excinfo.value
    if isinstance(error, AssertionError):
        # The check's own message comes first; pytest appends its introspection after it.
        message = str(error).split("\nassert ", 1)[0].strip() or excinfo.exconly()
    else:
        message = excinfo.exconly()
    for app_error in app_report(item).errors[:1]:
        message += f"\nThe app raised {type(app_error).__name__}: {app_error}"
    return message[:MESSAGE_LIMIT]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    marker = exercise_of(item)
    if marker is None:
        return
    failed = report.failed or (report.when == "call" and report.skipped)
    results = item.config.stash[_RESULTS]
    if results and results[-1]["nodeid"] == item.nodeid:
        row = results[-1]
        if failed and row["outcome"] == "passed":  # a teardown error spoils a pass
            row.update(outcome="error", message=_failure_message(item, call.excinfo) if call.excinfo else "")
        # A sandboxed app's warnings are read when it stops, at teardown.
        row["advice"] = merge(row["advice"], app_report(item).advice)
        _write_report(item.config)
        return
    if report.when != "call" and not failed:
        return
    exercise_id, points = marker
    doc = getattr(getattr(item, "function", None), "__doc__", None) or item.name
    results.append(
        {
            "nodeid": item.nodeid,
            "module": getattr(getattr(item, "module", None), "__name__", ""),
            "name": getattr(item, "originalname", item.name),
            "exercise": exercise_id,
            "points": points,
            "requirement": " ".join(doc.split()),
            "outcome": ("failed" if report.when == "call" else "error") if failed else "passed",
            "message": _failure_message(item, call.excinfo) if failed and call.excinfo else "",
            "duration": round(report.duration, 4),
            "advice": merge(app_report(item).advice),
        }
    )
    _write_report(item.config)


def pytest_warning_recorded(warning_message: Any, when: str, nodeid: str, location: Any) -> None:
    """A warning during a check: advice beside its result (checks of learner code never run with -W error)."""
    config = _config
    if config is None or when != "runtest":
        return
    message = warning_message.message
    category = category_name(warning_message.category)
    said = advice(category, str(message), str(warning_message.filename), int(warning_message.lineno), tree_root())
    results: list[dict[str, Any]] = config.stash[_RESULTS]
    row = next((row for row in reversed(results) if row["nodeid"] == nodeid), None)
    if said and row is not None:
        row["advice"] = merge(row["advice"], [said])
        _write_report(config)


def reset_report(config: pytest.Config, path: str | None) -> None:
    """Start a new report at ``path``: the grader runs the same checks for many learners."""
    config.option.course_report = path
    config.stash[_RESULTS] = []


def _write_report(config: pytest.Config, exitstatus: int | None = None) -> None:
    """Written after every check, so a run killed half-way keeps what it found."""
    path = config.getoption("course_report")
    if path:
        payload = {"exitstatus": exitstatus, "checks": config.stash[_RESULTS]}
        Path(path).write_text(json.dumps(payload, indent=1), encoding="utf-8")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):  # an xdist worker: the controller reports
        return
    if timing_path := config.getoption("course_timing"):
        Path(timing_path).write_text(json.dumps(config.stash[_TIMING], indent=1), encoding="utf-8")
    _write_report(config, int(exitstatus))
