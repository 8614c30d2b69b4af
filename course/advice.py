"""Warnings raised by a learner's app become advice, never a verdict.

A deprecated call that still works (``model.dict()``, ``session.query``) must not fail
a check: the machinery's own tests treat warnings as errors, but checks of learner code
only record them, in-process and in the grader's sandbox alike, and show them beside
the result as advice.

In the sandbox the app writes each warning to its log as one ``course-advice:`` line;
the trusted side reads those lines back. Either way the same words come out.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

MARK = "course-advice: "
MESSAGE_LIMIT = 300
LIMIT = 20  # advice lines kept per check: a warning in a loop is said once
DEPRECATIONS = ("DeprecationWarning", "PendingDeprecationWarning", "FutureWarning")
# Files of the machinery: a warning from them is the course's own business, not the learner's.
MACHINERY_PARTS = ("/course/", "/tests/exercises/", "/_pytest/", "/pluggy/")


def advice(category: str, message: str, filename: str, lineno: int, root: str | Path | None = None) -> str | None:
    """One line of advice for a warning, or None for a warning the machinery raised."""
    if any(part in filename for part in MACHINERY_PARTS) and "/labs/" not in filename:
        return None
    text = " ".join(str(message).split())[:MESSAGE_LIMIT]
    where = ""
    if root is not None and filename.startswith(str(root).rstrip("/") + "/labs/"):
        where = f" ({Path(filename).relative_to(root)}:{lineno})"
    elif "/labs/" in filename:
        where = f" (labs/{filename.split('/labs/', 1)[1]}:{lineno})"
    if category in DEPRECATIONS:
        return f"your code uses a deprecated API: {text}{where}"
    return f"your code raised a warning, {category}: {text}{where}"


def category_name(category: type[Warning]) -> str:
    """The category's name, or the name of its nearest standard base for library subclasses."""
    for base in category.__mro__:
        if base.__name__ in DEPRECATIONS:
            return base.__name__
    return category.__name__


def merge(*groups: Iterable[str]) -> list[str]:
    """Advice lines without repeats, in first-seen order, at most ``LIMIT``."""
    return list(dict.fromkeys(line for group in groups for line in group))[:LIMIT]


def report_warnings(stream: TextIO | None = None) -> None:
    """In a sandboxed process: show every warning, each as one ``course-advice:`` line on stderr."""

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        record = {"category": category_name(category), "message": str(message), "filename": filename, "lineno": lineno}
        (stream or sys.stderr).write(MARK + json.dumps(record) + "\n")

    warnings.simplefilter("always")
    warnings.showwarning = show


def read_reported(log: str, root: str | Path | None = None) -> list[str]:
    """The advice in a sandboxed process's log (its ``course-advice:`` lines)."""
    found = []
    for line in log.splitlines():
        if not line.startswith(MARK):
            continue
        try:
            record = json.loads(line[len(MARK) :])
            said = advice(
                str(record["category"]), str(record["message"]), str(record["filename"]), int(record["lineno"]), root
            )
        except (ValueError, KeyError, TypeError):
            continue
        if said:
            found.append(said)
    return merge(found)
