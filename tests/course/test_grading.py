"""course submit and course grade: honest scores, the same verdicts as self-checks, and a cheat battery."""

import json
import os
import shutil
import time
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

from course.checks import run_checks
from course.config import get_settings
from course.grading.batch import Batch, GradeOptions, GradingError, Intake, JobEnd, read_job_end, refused_outcomes
from course.grading.batch import grade_all as grade_batch
from course.grading.reports import write_reports
from course.grading.submissions import MANIFEST, pack
from course.layout import checkout_root, find_lesson, lessons
from course.safe_fs import remove_tree

pytestmark = [pytest.mark.embedded_only, pytest.mark.timeout(600)]
ROOT = checkout_root()
LESSON01 = "labs/lesson01_endpoints"
STARTER = ROOT.name  # the starter labs/ is graded under its checkout's name


def grade_all(paths, options):
    """The outcomes of a batch (its sandbox shortfalls are checked where they matter)."""
    return grade_batch(paths, options).outcomes


def totals(outcomes) -> dict[str, int]:
    earned: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        earned[outcome.learner] += outcome.earned
    return dict(earned)


def max_points(lesson_numbers: list[str]) -> int:
    return sum(
        exercise.points for lesson in lessons() if str(lesson.number) in lesson_numbers for exercise in lesson.exercises
    )


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
    reverted = submission(
        tmp_path, "reverted", "solutions", {f"{LESSON01}/users.py": (ROOT / LESSON01 / "users.py").read_text()}
    )
    outcomes = grade_all([ROOT / "solutions", ROOT / "labs", reverted], GradeOptions(lessons=["1", "2"]))
    full = max_points(["1", "2"])
    exercise_11 = next(e.points for e in lessons()[0].exercises if e.id == "1.1")
    assert totals(outcomes) == {"solutions": full, STARTER: 0, "reverted": full - exercise_11}
    lost = {o.exercise for o in outcomes if o.learner == "reverted" and not o.earned}
    assert lost == {"1.1"}


# Lesson 1, and lesson 13's WebSockets through the sandbox. Every lesson, with its planted bugs and
# alternatives, is graded both ways by the strength stage (course strength).
SAME_VERDICT_LESSONS = ["1", "13"]


@pytest.mark.long
def test_grading_gives_the_same_verdicts_as_the_in_process_self_check() -> None:
    graded = grade_all([ROOT / "solutions", ROOT / "labs"], GradeOptions(lessons=SAME_VERDICT_LESSONS))
    by_socket = {(o.learner, o.exercise, o.check): o.status == "passed" for o in graded}
    for learner, impl in (("solutions", "solutions"), (STARTER, ROOT / "labs")):
        in_process = {
            (learner, r.exercise, r.name): r.passed for r in run_checks(SAME_VERDICT_LESSONS, impl=impl).results
        }
        assert {key: value for key, value in by_socket.items() if key[0] == learner} == in_process, learner
    assert {o.lesson for o in graded} == {find_lesson(number).package for number in SAME_VERDICT_LESSONS}


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


HIDDEN_CHECK = '''
import pytest


@pytest.mark.exercise("1.1", points=1)
async def test_knows_the_secret_answer(client):
    """GET /answer returns the secret answer."""
    assert (await client.get("/answer")).json() == {"answer": "hidden-7f3a9c"}
'''


@pytest.mark.long
def test_distributed_grading_on_two_workers_gives_the_local_gradebook(tmp_path: Path) -> None:
    from course.grading.distributed import grade_distributed, grading_nodes
    from course.resources import services_status

    reachable, why = services_status()
    if not reachable:
        if get_settings().services == "required":
            pytest.fail(why)
        pytest.skip(why)
    broker = get_settings().redis_url.rsplit("/", 1)[0] + "/15"  # a database of its own for the queue
    queue = f"course.grading.test-{os.getpid()}-{time.time_ns()}"  # so no other run's workers take its tasks
    reverted = submission(
        tmp_path, "reverted", "solutions", {f"{LESSON01}/users.py": (ROOT / LESSON01 / "users.py").read_text()}
    )
    paths = [ROOT / "solutions", ROOT / "labs", reverted]
    options = GradeOptions(lessons=["1", "2"])
    with grading_nodes(broker, queue, 2):
        write_reports(grade_distributed(paths, options, broker, queue=queue).outcomes, tmp_path / "distributed")
    write_reports(grade_all(paths, options), tmp_path / "local")
    distributed = (tmp_path / "distributed" / "gradebook.csv").read_text()
    assert distributed == (tmp_path / "local" / "gradebook.csv").read_text()
    assert "reverted,lesson01_endpoints,1.1,0," in distributed


def test_the_grade_command_writes_every_output_and_regrades_one_learner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from course.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    submitted = runner.invoke(app, ["submit", "--name", "grace"])
    assert submitted.exit_code == 0 and (tmp_path / "submissions" / "grace.zip").is_file()
    out = tmp_path / "grades"
    args = ["grade", str(tmp_path / "submissions" / "grace.zip"), str(ROOT / "solutions"), "--out", str(out)]
    (tmp_path / "map.csv").write_text("learner,id\nsolutions,101\n")
    (tmp_path / "ids.csv").write_text("lesson,assignment_id\n1,9001\n")
    lms = ["--lms-map", str(tmp_path / "map.csv"), "--canvas-assignments", str(tmp_path / "ids.csv")]
    result = runner.invoke(app, [*args, "--exercise", "1.1", "--only", "solutions", *lms])
    assert result.exit_code == 0, result.output
    assert (out / "gradebook.csv").read_text().splitlines() == [
        "learner,lesson,exercise,points,max_points,status",
        "solutions,lesson01_endpoints,1.1,2,2,passed",
    ]
    assert {p.name for p in out.iterdir()} == {
        "gradebook.csv",
        "results.json",
        "feedback",
        "report.html",
        "lessons.csv",
        "canvas.csv",
        "moodle.csv",
        "similarity",
    }
    assert (out / "canvas.csv").read_text().splitlines()[0].endswith("(9001)")


def test_a_check_module_that_cannot_load_is_the_graders_failure(tmp_path: Path) -> None:
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_lesson01_endpoints.py").write_text("this is not python\n")
    with pytest.raises(GradingError, match=r"could not be collected|failed before grading"):
        grade_all([ROOT / "solutions"], GradeOptions(lessons=["1"], hidden=hidden))


def test_a_check_that_hangs_its_worker_costs_only_that_lesson_of_that_submission(tmp_path: Path) -> None:
    """A blocking check outlives its timeout: pytest-timeout ends the worker, and a new one goes on."""
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_lesson01_endpoints.py").write_text(
        "import time\n\nimport pytest\n\n\n@pytest.mark.exercise('1.1', points=1)\n"
        "def test_blocks_the_worker():\n    '''Blocks without yielding to the event loop.'''\n    time.sleep(120)\n"
    )
    # 3 s a check: short, so that the blocked worker is soon ended, yet long enough for the honest checks
    # beside it on a loaded 2-core machine.
    options = GradeOptions(lessons=["1", "2"], hidden=hidden, check_timeout=3, jobs=1)
    outcomes = grade_all([ROOT / "solutions"], options)
    blocked = [o for o in outcomes if o.hidden]
    others = [o for o in outcomes if not o.hidden]
    assert [(o.status, o.earned) for o in blocked] == [("error", 0)], blocked
    assert "stopped while grading" in blocked[0].message
    assert {o.lesson for o in others} == {"lesson01_endpoints", "lesson02_validation"}
    lost = [(o.check, o.status, o.message[:200]) for o in others if o.status != "passed"]
    assert not lost, f"the checks before it, or the next lesson, lost points: {lost}"


def test_a_grade_worker_task_gives_what_local_grading_gives(tmp_path: Path) -> None:
    """The Celery task body, called directly: no broker needed to check what a worker returns."""
    from course.grading.distributed import (
        TASK,
        _options_to_json,
        _zip_directory,
        grade_submission,
        make_app,
    )

    assert make_app("memory://", "class-a").conf.task_default_queue == "class-a"
    assert TASK in make_app("memory://").tasks
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_lesson01_endpoints.py").write_text(HIDDEN_CHECK)
    options = GradeOptions(exercises=["1.1"], hidden=hidden)
    reverted = submission(
        tmp_path, "reverted", "solutions", {f"{LESSON01}/users.py": (ROOT / LESSON01 / "users.py").read_text()}
    )
    payload = {path.name: path.read_text() for path in hidden.glob("*.py")}
    rows = grade_submission("reverted", _zip_directory(reverted / "labs"), _options_to_json(options), payload)[
        "outcomes"
    ]
    local = grade_all([reverted], options)
    keys = ("learner", "exercise", "check", "status", "hidden")
    assert sorted(tuple(row[key] for key in keys) for row in rows) == sorted(
        tuple(getattr(outcome, key) for key in keys) for outcome in local
    )
    assert {row["status"] for row in rows if not row["hidden"]} == {"failed"}  # 1.1 reverted to the starter


def test_a_deprecated_api_is_advice_in_the_self_check_and_the_feedback_alike(tmp_path: Path) -> None:
    """Warnings of learner code change no verdict; both ways show them, in the same words."""
    from course.layout import find_lesson
    from course.strength import build, variants_of

    variant = next(v for v in variants_of(find_lesson("1")) if v.name == "alt-deprecated-dict")
    labs = build(variant, tmp_path / "deprecated")
    checked = run_checks(["1.3"], impl=labs)
    graded = grade_all([labs.parent], GradeOptions(exercises=["1.3"]))
    assert checked.passed and all(o.status == "passed" for o in graded)
    said_checked = {line for result in checked.results for line in result.advice}
    said_graded = {line for outcome in graded for line in outcome.advice}
    assert said_checked == said_graded and any("deprecated API" in line for line in said_checked), (
        said_checked,
        said_graded,
    )
    write_reports(graded, tmp_path / "grades")
    page = next((tmp_path / "grades" / "feedback").iterdir()).read_text()
    assert "Advice" in page and "deprecated API" in page


def test_a_submission_narrowed_to_one_exercise_is_queued_and_refused_on_it_alone(tmp_path: Path) -> None:
    """``only_exercises``: one learner graded on exercise 1.2 alone, in the batch where another gets lessons 1 and 2."""
    batch = Batch(GradeOptions(lessons=["1", "2"], only_exercises={"ana": ["1.2"], "cal": ["2.4"]}))
    try:
        jobs = batch.enqueue(batch.materialise([submission(tmp_path, name, "solutions") for name in ("ana", "ben")]))
        queued = {
            (job.submission.name, job.lesson.package): ([e.id for e in job.exercises], json.loads(job.path.read_text()))
            for job in jobs
        }
    finally:
        remove_tree(batch.base)
    assert set(queued) == {("ana", "lesson01_endpoints"), ("ben", "lesson01_endpoints"), ("ben", "lesson02_validation")}
    exercises, payload = queued["ana", "lesson01_endpoints"]
    assert exercises == payload["exercises"] == ["1.2"]
    exercises, payload = queued["ben", "lesson02_validation"]
    assert exercises == ["2.1", "2.2", "2.3", "2.4"] and "exercises" not in payload  # the worker runs them all
    refused = refused_outcomes([Intake("cal", None, "a link")], batch.selected, batch.options)
    assert {(o.exercise, o.status, o.message) for o in refused} == {("2.4", "error", "a link")}


def test_only_the_lessons_queued_are_compiled_and_the_jails_can_read_their_bytecode(tmp_path: Path) -> None:
    """Jails cannot write bytecode, so the grader compiles what it queues, and nothing it does not grade."""
    batch = Batch(GradeOptions(lessons=["2"]))
    try:
        (taken,) = batch.materialise([submission(tmp_path, "ana", "solutions")])
        assert taken.submission is not None
        labs = taken.submission.labs
        assert not list(labs.rglob("*.pyc")), "compiled before anything was queued"
        batch.enqueue([taken])
        compiled = {path.relative_to(labs).parts[0] for path in labs.rglob("*.pyc")}
        modes = {path.stat().st_mode & 0o777 for path in labs.rglob("__pycache__*")}
        modes |= {path.stat().st_mode & 0o777 for path in labs.rglob("*.pyc")}
    finally:
        remove_tree(batch.base)
    assert compiled == {"__pycache__", "lesson02_validation"}
    assert modes == {0o755, 0o644}


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ('{"reason": "", "seconds": 1.5}', JobEnd("", 1.5)),
        ('{"reason": "the submission ran out of time", "seconds": 3}', JobEnd("the submission ran out of time", 3.0)),
        ('{"reason": "the check worker stopped"}', JobEnd("the check worker stopped", None)),
        ('{"reason": null, "seconds": "soon"}', JobEnd()),
        ('{"seconds": true}', JobEnd()),
        ('["reason", 1]', JobEnd()),
        ("{not json", JobEnd()),
        (None, JobEnd()),
    ],
)
def test_a_jobs_done_file_is_read_for_its_reason_and_seconds_or_nothing(
    tmp_path: Path, written: str | None, expected: JobEnd
) -> None:
    done = tmp_path / "job.done"
    if written is not None:
        done.write_text(written, encoding="utf-8")
    assert read_job_end(done) == expected
