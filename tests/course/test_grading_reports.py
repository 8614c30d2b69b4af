"""The instructor's files from graded outcomes: gradebook rows, JSON, feedback pages, class report,
and that hidden checks and hostile learner names never get through."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from course.grading.reports import CheckOutcome, check_title, exercise_key, feedback_filename, write_reports
from course.layout import checkout_root

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = checkout_root() / "artifacts" / "grading"

L1, L2 = "lesson01_endpoints", "lesson02_streaming"
EVIL = "../<script>alert(1)</script>"  # the zero learner: path traversal and markup in one name
SECRET_CHECK = "test_secret_negative_price"
SECRETS = (SECRET_CHECK, "SECRET-REQUIREMENT", "SECRET-MESSAGE")
LONG_MESSAGE = "assert 200 == 404 <b>boom</b> " + "x" * 800

# (lesson, exercise, check, points, hidden)
CATALOGUE = [
    (L1, "1.2", "test_lists_users", 2, False),
    (L1, "1.2", "test_unknown_user_is_404", 1, False),
    (L1, "1.10", "test_creates_order", 1, False),
    (L1, "1.10", SECRET_CHECK, 2, True),
    (L2, "2.1", "test_streams_prices", 3, False),
]
STATUSES = {
    "ada": ["passed"] * 5,
    "bob": ["passed", "failed", "passed", "failed", "passed"],
    EVIL: ["failed", "error", "error", "error", "timeout"],
}


def _outcomes() -> list[CheckOutcome]:
    outcomes = []
    for learner, statuses in STATUSES.items():
        for (lesson, exercise, check, points, hidden), status in zip(CATALOGUE, statuses, strict=True):
            failed = status != "passed"
            outcomes.append(
                CheckOutcome(
                    learner,
                    lesson,
                    exercise,
                    check,
                    requirement="SECRET-REQUIREMENT: no negative prices" if hidden else f"Requirement of {check}.",
                    points=points,
                    status=status,
                    message=("SECRET-MESSAGE" if hidden else LONG_MESSAGE) if failed else "",
                    duration=0.123456,
                    hidden=hidden,
                    title=check_title(check) if hidden else "",
                )
            )
    return outcomes[::-1]  # out of order on purpose: the output order is the reports' own


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    write_reports(_outcomes(), out)
    return out


def _feedback(out: Path, learner: str) -> str:
    return (out / "feedback" / feedback_filename(learner)).read_text()


def test_check_title_and_exercise_order() -> None:
    assert check_title("test_rejects_negative_price") == "Rejects negative price"
    assert sorted(["1.10", "2.1", "1.2"], key=exercise_key) == ["1.2", "1.10", "2.1"]


def test_gradebook_has_one_row_per_learner_and_exercise(reports: Path) -> None:
    with (reports / "gradebook.csv").open(newline="") as file:
        rows = list(csv.reader(file))
    assert rows == [
        ["learner", "lesson", "exercise", "points", "max_points", "status"],
        [EVIL, L1, "1.2", "0", "3", "failed"],
        [EVIL, L1, "1.10", "0", "3", "error"],
        [EVIL, L2, "2.1", "0", "3", "timeout"],
        ["ada", L1, "1.2", "3", "3", "passed"],
        ["ada", L1, "1.10", "3", "3", "passed"],
        ["ada", L2, "2.1", "3", "3", "passed"],
        ["bob", L1, "1.2", "2", "3", "partial"],
        ["bob", L1, "1.10", "1", "3", "partial"],
        ["bob", L2, "2.1", "3", "3", "passed"],
    ]


def test_results_json_checks_totals_and_truncation(reports: Path, tmp_path: Path) -> None:
    results = json.loads((reports / "results.json").read_text())
    checks = results["checks"]
    assert len(checks) == 15
    assert [c["exercise"] for c in checks if c["learner"] == "ada"] == ["1.2", "1.2", "1.10", "1.10", "2.1"]
    failing = next(c for c in checks if c["learner"] == "bob" and c["check"] == "test_unknown_user_is_404")
    assert failing == {
        "learner": "bob",
        "lesson": L1,
        "exercise": "1.2",
        "check": "test_unknown_user_is_404",
        "status": "failed",
        "message": LONG_MESSAGE[:499] + "…",
        "duration": 0.123,
        "points": 1,
        "earned": 0,
        "hidden": False,
        "advice": [],
    }
    hidden = [c for c in checks if c["hidden"]]
    assert {(c["check"], c["message"]) for c in hidden} == {("Secret negative price", "")}
    assert results["learners"] == [
        {"learner": EVIL, "points": 0, "max_points": 9, "feedback": f"feedback/{feedback_filename(EVIL)}"},
        {"learner": "ada", "points": 9, "max_points": 9, "feedback": "feedback/ada.html"},
        {"learner": "bob", "points": 6, "max_points": 9, "feedback": "feedback/bob.html"},
    ]
    write_reports(_outcomes(), tmp_path / "short", message_limit=40)
    short = json.loads((tmp_path / "short" / "results.json").read_text())["checks"]
    assert max(len(c["message"]) for c in short) == 40
    assert (reports / "results.json").read_text() == json.dumps(results, indent=1, ensure_ascii=False) + "\n"


def test_hidden_checks_never_leak_into_any_file(reports: Path) -> None:
    files = [path for path in reports.rglob("*") if path.is_file()]
    assert len(files) == 6  # gradebook, results, report, three feedback pages
    for path in files:
        text = path.read_text()
        assert not [secret for secret in SECRETS if secret in text], path
    assert "Secret negative price" in _feedback(reports, "bob")


def test_feedback_pages_escape_and_stay_inside_feedback(reports: Path) -> None:
    written = {path.relative_to(reports.parent).as_posix() for path in reports.parent.rglob("*") if path.is_file()}
    pages = {f"out/feedback/{feedback_filename(learner)}" for learner in STATUSES}
    assert written == {"out/gradebook.csv", "out/results.json", "out/report.html", *pages}
    assert {"out/feedback/ada.html", "out/feedback/bob.html"} < pages
    evil = _feedback(reports, EVIL)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in evil and "Total: 0 / 9" in evil
    for path in reports.rglob("*.html"):
        html = path.read_text()
        assert "<script" not in html and "<b>" not in html, path
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), path  # self-contained
    bob = _feedback(reports, "bob")
    assert "Total: 6 / 9 (67%)" in bob and "Requirement of test_unknown_user_is_404." in bob
    assert "<pre>assert 200 == 404 &lt;b&gt;boom&lt;/b&gt;" in bob
    assert "Run <code>course check 1.2</code> to see this failure locally." in bob
    assert "course check 1.10" not in bob  # its only failure is the hidden check


@pytest.mark.parametrize("name", ["../x", "..", ".", "", "a/b", "a\\b", "/etc/passwd", "~root"])
def test_feedback_filename_is_a_plain_name(name: str) -> None:
    filename = feedback_filename(name)
    assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\.html", filename), filename
    assert feedback_filename("a_b") != feedback_filename("a/b")


def test_class_report_has_charts_and_hardest_exercises_first(reports: Path) -> None:
    report = (reports / "report.html").read_text()
    assert report.count("<svg") == 4  # one histogram per exercise, one pass-rate chart
    assert "3 learners · mean total 5.0, median 6" in report
    hardest = report.split("<h2>Hardest exercises</h2>")[1].split("<h2>")[0]
    # 1.2 and 1.10 share a pass rate; learners got fewer of 1.10's points
    assert re.findall(r"<tr><td>([^<]*)</td>", hardest) == ["1.10", "1.2", "2.1"]
    assert "&lt;script&gt;" in report and f'href="feedback/{feedback_filename(EVIL)}"' in report


@pytest.mark.embedded_only
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_feedback_and_report_render_in_a_browser(reports: Path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.on("request", lambda request: requests.append(request.url))
        page.goto((reports / "feedback" / "bob.html").as_uri())
        feedback = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "feedback.png"), full_page=True)
        page.goto((reports / "report.html").as_uri())
        charts = page.locator("svg rect.bar").count()
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    assert "Total: 6 / 9" in feedback
    assert charts == 3 * 4 + 3  # three 0..3 histograms and three pass-rate bars
    assert all(url.startswith("file:") for url in requests), requests
