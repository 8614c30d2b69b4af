"""course record reproduces the stored notebooks; course test runs every step and says what it skipped."""

import contextlib
import dataclasses
import threading
from pathlib import Path

import pytest

from course import pipeline
from course.layout import checkout_root, find_lesson
from course.record import record
from course.verify import NotebookTiming, VerifyRun


@pytest.mark.embedded_only
def test_recording_a_notebook_again_changes_nothing(tmp_path: Path) -> None:
    stored = checkout_root() / find_lesson("1").notebook
    again = record("1", out=tmp_path / "again.ipynb")
    assert again.read_text() == stored.read_text(), "stored outputs are not reproducible: run `course record 1`"


def test_the_celery_worker_app_uses_the_runs_queue() -> None:
    from course.celery_app import celery_app
    from course.resources import get_resources

    assert celery_app.conf.task_default_queue == get_resources().celery_queue


@pytest.fixture
def fake_steps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The declared stages, each replaced by one that records its name, mode and time zone."""
    ran: list[str] = []

    def recording(stage: pipeline.Stage) -> pipeline.Stage:
        def action(env):
            ran.append(f"{stage.name} {env['COURSE_MODE']} {env['TZ']}")
            return True, "fake"

        return dataclasses.replace(stage, action=action)

    monkeypatch.setattr(pipeline, "STAGES", tuple(recording(stage) for stage in pipeline.STAGES))
    monkeypatch.setattr(pipeline, "checkout_root", lambda: Path("/nonexistent"))
    return ran


# What runs in embedded mode before the services stages, group by group.
EMBEDDED_GROUPS = [
    {"sync check embedded UTC"},
    {"lint and types embedded UTC"},
    {"checks and machinery embedded UTC", "notebooks embedded UTC"},
    {"check strength embedded Asia/Kathmandu"},
]


def in_order(ran: list[str], groups: list[set[str]]) -> bool:
    """Whether ``ran`` went group by group, in any order within a group (its stages run at once)."""
    position = 0
    for group in groups:
        if set(ran[position : position + len(group)]) != group:
            return False
        position += len(group)
    return position == len(ran)


def _policy(monkeypatch: pytest.MonkeyPatch, policy: str, reachable: bool) -> None:
    from course.config import get_settings

    monkeypatch.setattr(pipeline, "get_settings", lambda: get_settings().model_copy(update={"services": policy}))
    monkeypatch.setattr(pipeline, "services_status", lambda: (reachable, "Redis at redis://x is not reachable"))


def test_services_mode_is_skipped_and_said_when_unreachable(
    fake_steps: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _policy(monkeypatch, "auto", reachable=False)
    assert pipeline.run_pipeline() == 0
    assert in_order(
        fake_steps,
        [
            *EMBEDDED_GROUPS,
            {"notebooks embedded Asia/Kathmandu"},
            {"coverage embedded UTC"},
        ],
    ), fake_steps
    out = capsys.readouterr().out
    assert "services mode skipped: Redis at redis://x is not reachable" in out
    assert "passed, 0 failed, 1 skipped" in out


def test_required_services_that_are_unreachable_fail_the_run(
    fake_steps: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _policy(monkeypatch, "required", reachable=False)
    assert pipeline.run_pipeline() == 1


def test_reachable_services_run_both_modes(fake_steps: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _policy(monkeypatch, "auto", reachable=True)
    assert pipeline.run_pipeline() == 0
    assert in_order(
        fake_steps,
        [
            *EMBEDDED_GROUPS,
            {"checks and machinery services Asia/Kathmandu", "notebooks services Asia/Kathmandu"},
            {"coverage embedded UTC"},
        ],
    ), fake_steps


def test_the_notebook_step_needs_both_implementations_to_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = {"solutions": 0, "labs": 1}

    def fake_verify(impl: str, **kwargs: object) -> VerifyRun:
        return VerifyRun(outcomes[impl], 1.0, [NotebookTiming("notebooks/01-endpoints.ipynb", 1.0, 0.8, 3)], "")

    monkeypatch.setattr(pipeline, "verify", fake_verify)
    env = {"COURSE_MODE": "embedded", "TZ": "UTC"}
    assert pipeline._notebooks(env) == (False, "solutions exit 0, starter exit 1")
    outcomes["labs"] = 0
    assert pipeline._notebooks(env)[0]
    assert pipeline._sync(env)[0]


def test_only_the_embedded_suite_is_measured_for_coverage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The coverage stage reads the embedded suite's data; the services suite runs untraced, so it costs less."""
    commands: dict[str, list[str]] = {}

    def fake_call(command: list[str], cwd: Path, env: dict[str, str]) -> int:
        commands[env["COURSE_MODE"]] = command
        return 0

    monkeypatch.setattr(pipeline, "implementation_tree", lambda impl: contextlib.nullcontext(tmp_path))
    monkeypatch.setattr(pipeline.subprocess, "call", fake_call)
    for stage in pipeline.STAGES:
        if stage.name == "checks and machinery":
            assert stage.action({"COURSE_MODE": stage.mode.value, "TZ": stage.tz}) == (True, "pytest exit code 0")
    assert "coverage" in commands["embedded"] and "pytest" in commands["embedded"]
    assert "coverage" not in commands["services"] and "pytest" in commands["services"]
    assert commands["services"][-2:] == ["-m", "not embedded_only"]


def test_a_stage_run_beside_another_prints_after_it_and_both_count(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pair runs at once (each waits for the other to start); the second's words follow the first's."""
    both_started = threading.Barrier(2, timeout=10)

    def streaming(env):
        both_started.wait()
        pipeline.out().print("first speaks")
        return True, "first"

    def aside(env):
        both_started.wait()
        pipeline.out().print("second speaks")
        return False, "second"

    stages = (
        pipeline.Stage("first", streaming, beside_next=True),
        pipeline.Stage("second", aside),
        pipeline.Stage("alone", lambda env: (True, "alone")),
    )
    monkeypatch.setattr(pipeline, "STAGES", stages)
    monkeypatch.setattr(pipeline, "checkout_root", lambda: Path("/nonexistent"))
    _policy(monkeypatch, "skip", reachable=False)
    assert pipeline.run_pipeline() == 1
    out = capsys.readouterr().out
    assert out.index("first speaks") < out.index("second speaks") < out.index("passed alone")
    assert "2 passed, 1 failed, 1 skipped" in out
