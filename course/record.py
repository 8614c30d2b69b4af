"""Execute a lesson notebook against the solutions and store it normalised.

Stored outputs are what nbval verifies later, so they are recorded by the same
code path, against the same implementation. Normalising keeps diffs small: stable
cell ids and kernel metadata, no timing or widget state, and no outputs for cells
whose output is not verified (``# NBVAL_IGNORE_OUTPUT``).
"""

from __future__ import annotations

import configparser
import importlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from .config import CELL_TIMEOUT, NBVAL_CONFIG, ROOT_ENV, STRICT_ENV
from .harness import environment
from .layout import checkout_root, find_lesson
from .prose import COLLAPSED
from .tree import implementation_tree

IGNORE_OUTPUT = "# NBVAL_IGNORE_OUTPUT"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
KEPT_CELL_METADATA = ("tags", COLLAPSED)  # JupyterLab keeps "Going further" collapsed


def _merged_streams(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adjacent writes to one stream as one output: how a kernel splits them depends on timing."""
    merged: list[dict[str, Any]] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.get("name") == output.get("name")
            and output.get("output_type") == "stream" == previous.get("output_type")
        ):
            previous["text"] = _text(previous["text"]) + _text(output["text"])
            continue
        merged.append(dict(output))
    return merged


def _text(text: str | list[str]) -> str:
    return text if isinstance(text, str) else "".join(text)


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
            outputs = _merged_streams(cell.get("outputs", []))
            clean["outputs"] = [] if ignored else [_clean_output(output) for output in outputs]
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
    parser.read(checkout_root() / NBVAL_CONFIG, encoding="utf-8")
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
    from nbclient import NotebookClient

    nbformat: Any = importlib.import_module("nbformat")  # untyped: read and writes are its whole use here

    path = checkout_root() / find_lesson(selector).notebook
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells, start=1):  # as normalise names them; nbformat wants ids
        cell.setdefault("id", f"cell-{index:02d}")
    with implementation_tree(impl) as root, environment({ROOT_ENV: str(root), STRICT_ENV: "1"}):
        client = NotebookClient(
            notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        client.execute()
    out = out or path
    out.write_text(dumps(normalise(json.loads(nbformat.writes(notebook)))), encoding="utf-8")
    return out
