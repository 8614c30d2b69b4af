"""Execute a lesson notebook against the solutions and store it normalised.

Stored outputs are what nbval verifies later, so they are recorded by the same
code path, against the same implementation. Normalising keeps diffs small: stable
cell ids and kernel metadata, no timing or widget state, and no outputs for cells
whose output is not verified (``# NBVAL_IGNORE_OUTPUT``).
"""

from __future__ import annotations

import configparser
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from .harness import environment
from .layout import ROOT_ENV, checkout_root, find_lesson
from .tree import implementation_tree

IGNORE_OUTPUT = "# NBVAL_IGNORE_OUTPUT"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
KEPT_CELL_METADATA = ("tags",)
CELL_TIMEOUT = 120
SANITIZERS = "tests/nbval.cfg"


def normalise(notebook: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a notebook."""
    cells = []
    for index, cell in enumerate(notebook["cells"], start=1):
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        metadata = {key: cell["metadata"][key] for key in KEPT_CELL_METADATA if key in cell.get("metadata", {})}
        clean: dict[str, Any] = {
            "cell_type": cell["cell_type"],
            "id": f"cell-{index:02d}",
            "metadata": metadata,
            "source": source.splitlines(keepends=True),
        }
        if cell["cell_type"] == "code":
            ignored = IGNORE_OUTPUT in source
            clean["execution_count"] = None if ignored else cell.get("execution_count")
            clean["outputs"] = [] if ignored else [_clean_output(output) for output in cell.get("outputs", [])]
        cells.append(clean)
    return {
        "cells": cells,
        "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _clean_output(output: dict[str, Any]) -> dict[str, Any]:
    output = dict(output)
    if "metadata" in output:
        output["metadata"] = {}
    if output.get("output_type") == "stream":
        output["text"] = _sanitize(output["text"]).splitlines(keepends=True)
    if "data" in output:
        output["data"] = {
            mime: _sanitize(value).splitlines(keepends=True) if mime.startswith("text/") else value
            for mime, value in output["data"].items()
        }
    return output


@cache
def _sanitizers() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The patterns of tests/nbval.cfg: outputs are stored as nbval compares them."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(checkout_root() / SANITIZERS, encoding="utf-8")
    return tuple((re.compile(parser[name]["regex"]), parser[name]["replace"]) for name in parser.sections())


def _sanitize(text: str | list[str]) -> str:
    text = text if isinstance(text, str) else "".join(text)
    for pattern, replacement in _sanitizers():
        text = pattern.sub(replacement, text)
    return text


def dumps(notebook: dict[str, Any]) -> str:
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def record(selector: str, impl: str = "solutions", out: Path | None = None) -> Path:
    """Execute the lesson's notebook against ``impl`` and store it normalised (at ``out``)."""
    import nbformat
    from nbclient import NotebookClient

    path = checkout_root() / find_lesson(selector).notebook
    notebook = nbformat.read(path, as_version=4)
    with implementation_tree(impl) as root, environment({ROOT_ENV: str(root), "COURSE_STRICT": "1"}):
        client = NotebookClient(
            notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        client.execute()
    out = out or path
    out.write_text(dumps(normalise(json.loads(nbformat.writes(notebook)))), encoding="utf-8")
    return out
