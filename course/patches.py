"""Small unified diffs against ``solutions/``: read them, apply them, and write them.

Planted bugs and correct alternatives (``course.strength``) are kept as patches, so a
reviewer reads each one as the few lines it changes. Applying is strict: every hunk's
old lines must be found exactly, once, so a patch that no longer fits its solution
fails loudly instead of planting something else.
"""

from __future__ import annotations

import difflib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

HUNK = re.compile(r"^@@ -(?P<old>\d+)(?:,\d+)? \+\d+(?:,\d+)? @@")
NO_NEWLINE = "\\ No newline at end of file"
DEV_NULL = "/dev/null"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


class PatchError(ValueError):
    """A patch that cannot be read, or no longer fits the files it changes."""


@dataclass
class Hunk:
    old_start: int
    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)


@dataclass
class FileDiff:
    old_path: str | None  # None: the patch creates the file
    new_path: str | None  # None: the patch deletes the file
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""


def _strip(path: str) -> str | None:
    """``a/lesson01_endpoints/users.py`` → ``lesson01_endpoints/users.py``; /dev/null → None."""
    path = path.split("\t", 1)[0].strip()
    if path == DEV_NULL:
        return None
    if "/" not in path:
        raise PatchError(f"a patched path needs its a/ or b/ prefix: {path!r}")
    relative = path.split("/", 1)[1]
    if relative.startswith("/") or ".." in Path(relative).parts:
        raise PatchError(f"a patch may only change files under solutions/: {path!r}")
    return relative


def parse(text: str) -> list[FileDiff]:
    """The file diffs of a unified diff; lines before the first ``---`` are a header, ignored here."""
    lines = text.splitlines(keepends=True)
    files: list[FileDiff] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("--- ") and index + 1 < len(lines) and lines[index + 1].startswith("+++ "):
            files.append(FileDiff(_strip(line[4:]), _strip(lines[index + 1][4:])))
            index += 2
            continue
        if match := HUNK.match(line):
            if not files:
                raise PatchError("a hunk before any file header")
            hunk = Hunk(int(match["old"]))
            files[-1].hunks.append(hunk)
            index += 1
            while index < len(lines) and lines[index][:1] in (" ", "-", "+", "\\", "\n"):
                body = lines[index]
                if body.startswith("--- ") and index + 1 < len(lines) and lines[index + 1].startswith("+++ "):
                    break
                if body.rstrip("\n") == NO_NEWLINE:
                    for side in (hunk.old, hunk.new):  # the line before lost its newline
                        if side and side[-1].endswith("\n") and lines[index - 1][1:] == side[-1]:
                            side[-1] = side[-1][:-1]
                elif body == "\n" or body[0] == " ":
                    hunk.old.append(body[1:] or "\n")
                    hunk.new.append(body[1:] or "\n")
                elif body[0] == "-":
                    hunk.old.append(body[1:])
                else:
                    hunk.new.append(body[1:])
                index += 1
            continue
        index += 1
    if not files:
        raise PatchError("no file diff found (expected '--- a/...' and '+++ b/...')")
    return files


def _locate(lines: list[str], old: list[str], hint: int, where: str) -> int:
    """Where ``old`` starts in ``lines``: at the hunk's own line if it fits there, else at its one other match."""
    size = len(old)
    if lines[hint : hint + size] == old:
        return hint
    found = [start for start in range(len(lines) - size + 1) if lines[start : start + size] == old]
    if len(found) != 1:
        shown = "".join(old).strip()[:300]
        problem = "is not found" if not found else f"matches {len(found)} places"
        raise PatchError(f"{where}: the hunk that expects\n{shown}\n{problem}; refresh the patch")
    return found[0]


def apply(text: str, root: Path) -> list[str]:
    """Apply a unified diff to the files under ``root``; returns the paths it changed."""
    changed = []
    for diff in parse(text):
        target = root / diff.path
        if diff.old_path is None:
            if target.exists():
                raise PatchError(f"{diff.path}: the patch creates it, but it exists")
            lines: list[str] = []
        else:
            try:
                lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
            except OSError as exc:
                raise PatchError(f"{diff.path}: cannot read it ({exc})") from None
        offset = 0
        for hunk in diff.hunks:
            start = _locate(lines, hunk.old, max(0, hunk.old_start - 1 + offset), diff.path) if hunk.old else 0
            lines[start : start + len(hunk.old)] = hunk.new
            offset += len(hunk.new) - len(hunk.old)
        if diff.new_path is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("".join(lines), encoding="utf-8")
        changed.append(diff.path)
    return changed


def diff_trees(original: Path, edited: Path, prefix: str = "") -> str:
    """A unified diff from ``original`` to ``edited`` with a/ and b/ paths under ``prefix``."""
    names = sorted(
        {path.relative_to(original).as_posix() for path in original.rglob("*") if path.is_file()}
        | {path.relative_to(edited).as_posix() for path in edited.rglob("*") if path.is_file()}
    )
    out: list[str] = []
    for name in names:
        if "__pycache__" in name or name.endswith(".pyc"):
            continue
        before, after = original / name, edited / name
        old = before.read_text(encoding="utf-8").splitlines(keepends=True) if before.is_file() else []
        new = after.read_text(encoding="utf-8").splitlines(keepends=True) if after.is_file() else []
        if old == new:
            continue
        label = f"{prefix}{name}"
        old_label = f"a/{label}" if before.is_file() else DEV_NULL
        new_label = f"b/{label}" if after.is_file() else DEV_NULL
        for line in difflib.unified_diff(old, new, old_label, new_label, n=2):
            out.append(line if line.endswith("\n") else line + "\n" + NO_NEWLINE + "\n")
    return "".join(out)
