"""course grade --cache: only what changed is graded again, and the gradebook is the same as a full grade."""

import shutil
from pathlib import Path

import pytest

from course.grading.batch import Batch, GradeOptions, GradingError, grade_all
from course.grading.cache import GradeCache, lesson_context
from course.grading.reports import CheckOutcome
from course.layout import checkout_root, find_lesson

pytestmark = [pytest.mark.embedded_only, pytest.mark.timeout(300)]
ROOT = checkout_root()
USERS = "lesson01_endpoints/users.py"
HIDDEN_CHECK = '''import pytest


@pytest.mark.exercise("2.1", points=1)
def test_hidden_always_passes():
    """A hidden check that always passes."""
'''


def learner(tmp_path: Path, name: str, source: str) -> Path:
    target = tmp_path / name
    shutil.copytree(ROOT / source, target / "labs", ignore=shutil.ignore_patterns("__pycache__"))
    return target


def verdicts(outcomes: list[CheckOutcome]) -> dict[tuple[str, str, str, bool], str]:
    return {(o.learner, o.exercise, o.check, o.hidden): o.status for o in outcomes}


def test_a_regrade_grades_only_the_changed_lesson_and_agrees_with_a_full_grade(tmp_path: Path) -> None:
    ana, ben = learner(tmp_path, "ana", "solutions"), learner(tmp_path, "ben", "labs")
    cache = tmp_path / "cache"
    options = GradeOptions(lessons=["1", "2"], cache=cache)

    first = grade_all([ana, ben], options)
    assert (first.graded_jobs, first.cached_jobs) == (4, 0)
    again = grade_all([ana, ben], options)
    assert (again.graded_jobs, again.cached_jobs) == (0, 4), "nothing changed, so nothing is graded"
    assert verdicts(again.outcomes) == verdicts(first.outcomes)
    assert any(o.status == "passed" for o in again.outcomes) and any(o.status == "failed" for o in again.outcomes)

    # ben solves 1.1: his lesson 01 alone is graded again, and scores as a full grade would.
    (ben / "labs" / USERS).write_text((ROOT / "solutions" / USERS).read_text())
    resubmitted = grade_all([ana, ben], options)
    assert (resubmitted.graded_jobs, resubmitted.cached_jobs) == (1, 3)
    full = grade_all([ana, ben], GradeOptions(lessons=["1", "2"]))
    assert verdicts(resubmitted.outcomes) == verdicts(full.outcomes)
    assert verdicts(resubmitted.outcomes) != verdicts(first.outcomes)

    # Hidden checks for lesson 02 change its checks: lesson 02 is graded again for both, lesson 01 is not.
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_lesson02_validation.py").write_text(HIDDEN_CHECK)
    with_hidden = grade_all([ana, ben], GradeOptions(lessons=["1", "2"], cache=cache, hidden=hidden))
    assert (with_hidden.graded_jobs, with_hidden.cached_jobs) == (2, 2)
    assert {o.learner for o in with_hidden.outcomes if o.hidden} == {"ana", "ben"}

    # The cache keeps how long each lesson took, for the next run's order.
    durations = GradeCache(cache).durations()
    assert set(durations) == {"lesson01_endpoints", "lesson02_validation"} and min(durations.values()) > 0


@pytest.mark.parametrize("heavier", ["lesson01_endpoints", "lesson02_validation"])
def test_the_lesson_that_took_longest_last_time_is_claimed_first(tmp_path: Path, heavier: str) -> None:
    cache = GradeCache(tmp_path / "cache")
    cache.record_durations({"lesson01_endpoints": 1.0, "lesson02_validation": 1.0, heavier: 9.0})
    with Batch(GradeOptions(lessons=["1", "2"], cache=tmp_path / "cache")) as batch:
        jobs = batch.enqueue(batch.materialise([learner(tmp_path, "ana", "solutions")]))
        claimed_first = min(jobs, key=lambda job: job.path.name)
    assert claimed_first.lesson.package == heavier


def test_each_input_of_a_job_is_part_of_its_key(tmp_path: Path) -> None:
    """The options that bound a check, the exercises chosen and the hidden checks each change the key."""
    lesson = find_lesson("1")
    exercises = list(lesson.exercises)
    options = GradeOptions().verdict_options()
    base = lesson_context(lesson, exercises, [], options)
    assert lesson_context(lesson, exercises, [], options) == base
    assert lesson_context(lesson, exercises, [], GradeOptions(check_timeout=30).verdict_options()) != base
    assert lesson_context(lesson, exercises[:1], [], options) != base
    hidden = tmp_path / Path(lesson.check_module).name
    hidden.write_text(HIDDEN_CHECK)
    assert lesson_context(lesson, exercises, [hidden], options) != base
    other = tmp_path / "test_lesson02_validation.py"
    other.write_text(HIDDEN_CHECK)
    assert lesson_context(lesson, exercises, [other], options) == base, "another lesson's hidden checks"
    cache = GradeCache(tmp_path / "cache")
    labs = learner(tmp_path, "ana", "solutions") / "labs"
    key = cache.key(base, labs, lesson)
    (labs / "lesson02_validation" / "schemas.py").write_text("# another lesson\n")
    assert cache.key(base, labs, lesson) == key, "only the lesson's own files count"
    (labs / USERS).write_text((labs / USERS).read_text() + "\n")
    assert cache.key(base, labs, lesson) != key


def test_only_settled_verdicts_are_kept(tmp_path: Path) -> None:
    cache = GradeCache(tmp_path / "cache")
    settled = CheckOutcome("ana", "lesson01_endpoints", "1.1", "test_x", "Req.", 1, "failed", "no", advice=("a",))
    assert cache.put("a" * 64, [settled])
    stored = cache.get("a" * 64, "ben")
    assert stored is not None and stored[0].learner == "ben" and stored[0].status == "failed"
    assert stored[0].advice == ("a",)
    for status in ("timeout", "error"):
        unsettled = CheckOutcome("ana", "lesson01_endpoints", "1.1", "test_y", "Req.", 1, status)
        assert not cache.put("b" * 64, [settled, unsettled]), f"a {status} may be the machine's, not the code's"
    assert cache.get("b" * 64, "ana") is None


def test_a_cache_that_is_a_link_is_refused_before_grading(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "cache").symlink_to(elsewhere)
    with pytest.raises(GradingError, match="cache"):
        grade_all([ROOT / "solutions"], GradeOptions(lessons=["1"], cache=tmp_path / "cache"))
