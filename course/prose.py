"""Measures of a lesson notebook as teaching text: the words on its core path, and its asides.

The core path is every markdown cell outside a "Going further" section. A "Going
further" section starts at a heading whose text begins with those words and runs to
the next heading of the same or a higher level; JupyterLab shows it collapsed when
its heading cell carries ``jp-MarkdownHeadingCollapsed``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORE_WORDS = 1800
COLLAPSED = "jp-MarkdownHeadingCollapsed"
GOING_FURTHER = re.compile(r"^(?P<level>#{1,6})\s+Going further\b", re.IGNORECASE)
HEADING = re.compile(r"^(?P<level>#{1,6})\s+\S")
WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*")
FENCE = re.compile(r"```.*?```", re.DOTALL)


@dataclass(frozen=True)
class Prose:
    core_words: int
    aside_words: int
    asides: int  # "Going further" sections
    collapsed_asides: int  # of those, collapsed by default


def words(markdown: str) -> int:
    """Words of prose: code blocks do not count, inline code does (it is read as part of a sentence)."""
    return len(WORD.findall(FENCE.sub(" ", markdown)))


def measure(notebook: dict[str, Any]) -> Prose:
    core = aside = asides = collapsed = 0
    aside_level: int | None = None
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        first = source.lstrip().splitlines()[0] if source.strip() else ""
        if heading := HEADING.match(first):
            level = len(heading["level"])
            if aside_level is not None and level <= aside_level:
                aside_level = None
            if further := GOING_FURTHER.match(first):
                aside_level = len(further["level"])
                asides += 1
                collapsed += bool(cell.get("metadata", {}).get(COLLAPSED))
        if aside_level is None:
            core += words(source)
        else:
            aside += words(source)
    return Prose(core, aside, asides, collapsed)


def measure_file(path: Path) -> Prose:
    return measure(json.loads(path.read_text(encoding="utf-8")))
