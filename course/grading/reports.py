"""Turn graded check outcomes into the instructor's files: gradebook, JSON, feedback pages, class report.

Pure functions over plain data: nothing here knows how grading ran. Learner names and check
text come from untrusted submissions, so every string is escaped on its way into HTML, and
hidden checks are reduced to their title before any output sees them.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import stat
import statistics
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import astuple, dataclass, fields
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..advice import merge

if TYPE_CHECKING:  # similarity.py renders with this module's helpers; only its type is needed here
    from .similarity import SimilarityReport

STATUSES = ("passed", "failed", "error", "timeout", "skipped")
HIDDEN_FALLBACK = "Hidden check"


@dataclass(frozen=True)
class CheckOutcome:
    learner: str  # submission name
    lesson: str  # lesson package, e.g. "lesson01_endpoints"
    exercise: str  # e.g. "1.2"
    check: str  # check function name, e.g. "test_unknown_user_is_404"
    requirement: str  # the check's docstring (what the learner reads)
    points: int  # points this check is worth
    status: str  # "passed" | "failed" | "error" | "timeout" | "skipped"
    message: str = ""  # failure message, may be long
    duration: float = 0.0
    hidden: bool = False  # an instructor's hidden check: never reveal requirement/message/name beyond its title
    title: str = ""  # what a hidden check is shown as; see check_title()
    advice: tuple[str, ...] = ()  # what the app warned about (course.advice); never for hidden checks

    @property
    def earned(self) -> int:
        return self.points if self.status == "passed" else 0

    @property
    def shown_name(self) -> str:
        """The name outputs may show: the check name, or only the title of a hidden check."""
        if self.hidden:
            return self.title or HIDDEN_FALLBACK
        return self.check


@dataclass(frozen=True)
class ExerciseRow:
    """One gradebook row; its fields, in order, are the CSV columns."""

    learner: str
    lesson: str
    exercise: str
    points: int
    max_points: int
    status: str


def check_title(name: str) -> str:
    """``test_rejects_negative_price`` -> ``Rejects negative price``."""
    words = name.removeprefix("test_").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def exercise_key(exercise: str) -> tuple[tuple[int, int, str], ...]:
    """Numeric order for ids, so 1.2 sorts before 1.10; non-numeric parts sort after, as text."""
    return tuple((0, int(part), "") if part.isdecimal() else (1, 0, part) for part in exercise.split("."))


def feedback_filename(learner: str) -> str:
    """A file name inside feedback/ for any learner name: no separators, no leading dots.

    A name that had to change gets a short hash of the original, so two learners never share a page.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", learner).lstrip(".")[:80]
    if safe != learner or not safe:
        safe = f"{safe}-{hashlib.sha256(learner.encode()).hexdigest()[:8]}".lstrip("-")
    return f"{safe}.html"


def _order(outcome: CheckOutcome) -> tuple[object, ...]:
    return outcome.learner, outcome.lesson, exercise_key(outcome.exercise), outcome.hidden, outcome.shown_name


def exercise_rows(outcomes: Sequence[CheckOutcome]) -> list[ExerciseRow]:
    """One row per learner x exercise, sorted by learner, lesson, exercise.

    Status: "passed" when every check passed, "partial" when some points were earned, otherwise
    the checks' shared status when they all ended the same non-passing way ("error", "timeout",
    "skipped": it tells the instructor the submission never really ran), else "failed".
    """
    groups: dict[tuple[str, str, str], list[CheckOutcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[outcome.learner, outcome.lesson, outcome.exercise].append(outcome)
    rows = []
    for (learner, lesson, exercise), checks in groups.items():
        earned = sum(check.earned for check in checks)
        statuses = {check.status for check in checks}
        if statuses == {"passed"}:
            status = "passed"
        elif earned:
            status = "partial"
        elif len(statuses) == 1 and statuses <= {"error", "timeout", "skipped"}:
            status = statuses.pop()
        else:
            status = "failed"
        rows.append(ExerciseRow(learner, lesson, exercise, earned, sum(c.points for c in checks), status))
    return sorted(rows, key=lambda row: (row.learner, row.lesson, exercise_key(row.exercise)))


def learner_totals(rows: Sequence[ExerciseRow]) -> dict[str, tuple[int, int]]:
    """learner -> (points, max_points), in learner order."""
    totals: dict[str, tuple[int, int]] = {}
    for row in rows:
        points, max_points = totals.get(row.learner, (0, 0))
        totals[row.learner] = points + row.points, max_points + row.max_points
    return dict(sorted(totals.items()))


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters; a cut message ends with an ellipsis so nobody mistakes it for whole."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…" if limit > 0 else ""


class OutputRefused(Exception):
    """``--out`` is not a directory that only the instructor can write."""


class OutputDir:
    """Where the reports go, opened so that nothing planted there is followed or written through.

    An existing ``--out`` must be a real directory of the user who grades, writable by
    nobody else; a new one is created so. Every file is created through the directory's
    descriptor, never following a link, and must turn out to be a regular file.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o755)
        self.descriptor = self._trusted_directory(str(path), None)
        self.path = path

    @staticmethod
    def _trusted_directory(name: str, parent: int | None) -> int:
        try:
            descriptor = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
        except OSError as exc:
            raise OutputRefused(f"{name} is not a directory of yours ({exc.strerror})") from None
        info = os.fstat(descriptor)
        if info.st_uid != os.geteuid() or info.st_mode & 0o022:
            os.close(descriptor)
            raise OutputRefused(f"{name} belongs to someone else or others may write to it; choose another --out")
        return descriptor

    def subdirectory(self, name: str) -> int:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o755, dir_fd=self.descriptor)
        return self._trusted_directory(name, self.descriptor)

    def write(self, name: str, text: str, directory: int | None = None) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        descriptor = os.open(name, flags, 0o644, dir_fd=directory if directory is not None else self.descriptor)
        with open(descriptor, "w", encoding="utf-8", newline="") as file:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise OutputRefused(f"{name} in --out is not a regular file")
            file.write(text)

    def close(self) -> None:
        os.close(self.descriptor)


def write_reports(
    outcomes: Sequence[CheckOutcome],
    out: Path,
    *,
    message_limit: int = 500,
    notes: Sequence[str] = (),
    similarity: SimilarityReport | None = None,
) -> None:
    """Write gradebook.csv, results.json, feedback/<learner>.html and report.html into ``out``.

    ``notes`` say what the sandbox could not do on this machine; the class report shows them.
    ``similarity`` adds similarity/ and a section of the class report only: no score, no feedback page.
    """
    outcomes = sorted(outcomes, key=_order)
    rows = exercise_rows(outcomes)
    totals = learner_totals(rows)
    target = OutputDir(out)
    try:
        feedback = target.subdirectory("feedback")
        gradebook = io.StringIO()
        writer = csv.writer(gradebook)
        writer.writerow(field.name for field in fields(ExerciseRow))
        writer.writerows(astuple(row) for row in rows)
        target.write("gradebook.csv", gradebook.getvalue())
        learners = [
            {"learner": name, "points": points, "max_points": top, "feedback": f"feedback/{feedback_filename(name)}"}
            for name, (points, top) in totals.items()
        ]
        results = {
            "checks": [_check_json(outcome, message_limit) for outcome in outcomes],
            "learners": learners,
            "sandbox": list(notes),
        }
        target.write("results.json", json.dumps(results, indent=1, ensure_ascii=False) + "\n")
        for learner, total in totals.items():
            mine = [outcome for outcome in outcomes if outcome.learner == learner]
            page = feedback_page(learner, total, [row for row in rows if row.learner == learner], mine, message_limit)
            target.write(feedback_filename(learner), page, feedback)
        os.close(feedback)
        if similarity is not None:
            similarity.write(target)
        target.write("report.html", class_report(rows, totals, notes, similarity))
    finally:
        target.close()


def outcome_from_json(row: dict[str, Any]) -> CheckOutcome:
    """A CheckOutcome sent as JSON (by a grading node), its advice a tuple again."""
    known = {field.name for field in fields(CheckOutcome)}
    values: dict[str, Any] = {key: tuple(v) if key == "advice" else v for key, v in row.items() if key in known}
    return CheckOutcome(**values)


def _check_json(outcome: CheckOutcome, message_limit: int) -> dict[str, object]:
    return {
        "learner": outcome.learner,
        "lesson": outcome.lesson,
        "exercise": outcome.exercise,
        "check": outcome.shown_name,
        "status": outcome.status,
        "message": "" if outcome.hidden else truncate(outcome.message, message_limit),
        "duration": round(outcome.duration, 3),
        "points": outcome.points,
        "earned": outcome.earned,
        "hidden": outcome.hidden,
        "advice": [] if outcome.hidden else list(outcome.advice),
    }


# --- HTML -------------------------------------------------------------------------------------

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328}
body{max-width:960px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.3rem .8rem;border-bottom:1px solid #eaeef2;text-align:left}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.total{font-size:1.3rem;font-weight:600}.muted{color:#656d76}
.status{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.85rem;background:#eaeef2}
.passed{background:#dafbe1;color:#116329}.partial{background:#fff8c5;color:#7d4e00}
.failed,.error,.timeout{background:#ffebe9;color:#a40e26}
.check{border:1px solid #d0d7de;border-radius:6px;padding:.2rem 1rem;margin:1rem 0}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
code{background:#f6f8fa;padding:0 .25rem;border-radius:3px}
.charts{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}figcaption{font-weight:600}
svg text{font:11px system-ui,sans-serif;fill:#1f2328}svg rect.bar{fill:#0969da}
"""


def _page(title: str, body: str) -> str:
    """A whole self-contained page: inline CSS, no scripts, no external assets."""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _badge(status: str) -> str:
    css = status if status in (*STATUSES, "partial") else ""
    return f'<span class="status {css}">{escape(status)}</span>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Collection[int] = ()) -> str:
    """A table of already-escaped cells; the ``numeric`` columns are right-aligned."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _score(points: int, max_points: int) -> str:
    percent = f" ({100 * points / max_points:.0f}%)" if max_points else ""
    return f"{points} / {max_points}{percent}"


def feedback_page(
    learner: str,
    total: tuple[int, int],
    rows: Sequence[ExerciseRow],
    outcomes: Sequence[CheckOutcome],
    message_limit: int = 500,
) -> str:
    """One learner's page: total, a table per lesson, what to fix, and hidden checks by title only."""
    parts = [f"<h1>Feedback for {escape(learner)}</h1>", f'<p class="total">Total: {_score(*total)}</p>']
    for lesson in dict.fromkeys(row.lesson for row in rows):
        mine = [r for r in rows if r.lesson == lesson]
        cells = [[escape(r.exercise), f"{r.points} / {r.max_points}", _badge(r.status)] for r in mine]
        parts += [f"<h2>{escape(lesson)}</h2>", _table(["Exercise", "Points", "Status"], cells, numeric=[1])]
    failing = [o for o in outcomes if not o.hidden and o.status != "passed"]
    if failing:
        parts.append("<h2>What to fix</h2>")
    for o in failing:
        parts.append(
            f'<div class="check"><h3>{escape(o.exercise)} · {escape(check_title(o.check))} {_badge(o.status)}</h3>'
            f'<p>{escape(o.requirement)}</p><p class="muted">Check <code>{escape(o.check)}</code>, '
            f"{o.points} point{'s' * (o.points != 1)}</p>"
            + (f"<pre>{escape(truncate(o.message, message_limit))}</pre>" if o.message else "")
            + f"<p>Run <code>course check {escape(o.exercise)}</code> to see this failure locally.</p></div>"
        )
    said = merge(*(o.advice for o in outcomes if not o.hidden))
    if said:
        parts.append('<h2>Advice</h2><p class="muted">Your code works, but it does not change your score:</p>')
        parts.append("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in said) + "</ul>")
    hidden = [[escape(o.exercise), escape(o.shown_name), _badge(o.status)] for o in outcomes if o.hidden]
    if hidden:
        parts += ["<h2>Hidden checks</h2>", _table(["Exercise", "Check", "Status"], hidden)]
    return _page(f"Feedback: {learner}", "\n".join(parts))


def bar_chart(label: str, bars: Sequence[tuple[str, float]], *, top: float, unit: str = "") -> str:
    """An inline SVG bar chart of (label, value) pairs, values scaled to ``top``."""
    width, height, pad = 320, 150, 22
    step = (width - 2 * pad) / max(len(bars), 1)
    shapes = [f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#8c959f"/>']
    for i, (name, value) in enumerate(bars):
        h = (height - 2 * pad - 10) * (value / top if top else 0)
        x, y = pad + i * step, height - pad - h
        text = f"{value:g}{unit}"
        shapes.append(
            f'<rect class="bar" x="{x + step * 0.1:.1f}" y="{y:.1f}" width="{step * 0.8:.1f}" height="{h:.1f}">'
            f"<title>{escape(name)}: {escape(text)}</title></rect>"
            f'<text x="{x + step / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{escape(text)}</text>'
            f'<text x="{x + step / 2:.1f}" y="{height - 6}" text-anchor="middle">{escape(name)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}">{"".join(shapes)}</svg>'
    )


def class_report(
    rows: Sequence[ExerciseRow],
    totals: dict[str, tuple[int, int]],
    notes: Sequence[str] = (),
    similarity: SimilarityReport | None = None,
) -> str:
    """The class view: summary, score histogram per exercise, pass rates, hardest exercises, learners,
    and similar submissions when asked."""
    scores = [points for points, _ in totals.values()]
    summary = f"mean total {statistics.mean(scores):.1f}, median {statistics.median(scores):g}" if scores else ""
    by_exercise: dict[tuple[str, str], list[ExerciseRow]] = defaultdict(list)
    for row in rows:
        by_exercise[row.lesson, row.exercise].append(row)
    exercises = sorted(by_exercise, key=lambda key: (key[0], exercise_key(key[1])))
    rate = {key: sum(r.status == "passed" for r in by_exercise[key]) / len(by_exercise[key]) for key in exercises}
    top = {key: max(r.max_points for r in by_exercise[key]) for key in exercises}
    mean = {key: statistics.mean(r.points for r in by_exercise[key]) for key in exercises}
    histograms = []
    for key in exercises:
        counts = [(str(s), sum(r.points == s for r in by_exercise[key])) for s in range(top[key] + 1)]
        chart = bar_chart(f"Scores for exercise {key[1]}", counts, top=max(c for _, c in counts))
        caption = f"Exercise {escape(key[1])}: learners per score"
        histograms.append(f"<figure><figcaption>{caption}</figcaption>{chart}</figure>")
    rates = [(k[1], round(100 * rate[k])) for k in exercises]
    pass_chart = bar_chart("Pass rate per exercise", rates, top=100, unit="%")
    # Equal pass rates: the exercise where learners got fewer of its points is the harder one.
    hardest = sorted(exercises, key=lambda k: (rate[k], mean[k] / (top[k] or 1), k[0], exercise_key(k[1])))
    hardest_rows = [[escape(k[1]), escape(k[0]), f"{100 * rate[k]:.0f}%", f"{mean[k]:.1f} / {top[k]}"] for k in hardest]
    learner_rows = [
        [f'<a href="feedback/{escape(feedback_filename(name))}">{escape(name)}</a>', _score(*total)]
        for name, total in totals.items()
    ]
    body = [
        "<h1>Class report</h1>",
        f'<p class="total">{len(totals)} learner{"s" * (len(totals) != 1)}{" · " * bool(summary)}{summary}</p>',
        *(f'<p class="status failed">Sandbox weaker than intended: {escape(note)}</p>' for note in notes),
        "<h2>Score distribution per exercise</h2>",
        f'<div class="charts">{"".join(histograms)}</div>',
        "<h2>Pass rate per exercise</h2>",
        f"<figure>{pass_chart}</figure>",
        "<h2>Hardest exercises</h2>",
        _table(["Exercise", "Lesson", "Pass rate", "Mean points"], hardest_rows, numeric=[2, 3]),
        "<h2>Learners</h2>",
        _table(["Learner", "Total"], learner_rows, numeric=[1]),
    ]
    if similarity is not None:
        body.append(similarity.section())
    return _page("Class report", "\n".join(body))
