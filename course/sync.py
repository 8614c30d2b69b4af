"""Generate the starter ``labs/`` from ``solutions/``.

The code a learner writes is wrapped in solution markers::

    # BEGIN SOLUTION 7.2: Reject an expired token with 401
    ...reference code...
    # END SOLUTION

In ``labs/`` the block becomes ``raise NotImplementedError("Exercise 7.2: ...")`` at
the marker's indentation. Where a ``raise`` cannot stand (a class body, a field), the
block ends with a stub written as comments, which replaces it instead::

    # BEGIN SOLUTION 2.1: Quantities are Decimals greater than zero
    quantity: Decimal = Field(gt=0)
    # STUB
    # quantity: str
    # END SOLUTION

``labs/.sync-manifest.json`` records what was generated, so ``sync`` refuses to
overwrite a file a learner has edited.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .layout import checkout_root

BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION (?P<id>\d+\.\d+): (?P<task>\S.*)$")
STUB = re.compile(r"^\s*# STUB\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
MANIFEST = ".sync-manifest.json"
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}


class MarkerError(ValueError):
    """A solution file whose markers do not pair up."""


@dataclass(frozen=True)
class SyncReport:
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    refused: tuple[str, ...]

    @property
    def in_step(self) -> bool:
        return not (self.changed or self.removed)


def starter_source(source: str, filename: str = "<source>") -> str:
    """The starter version of a solution file."""
    out: list[str] = []
    block: tuple[int, re.Match[str]] | None = None
    stub: list[str] | None = None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        text = line.rstrip("\n")
        if block is None:
            if match := BEGIN.match(text):
                block, stub = (number, match), None
            elif END.match(text) or STUB.match(text):
                raise MarkerError(f"{filename}:{number}: marker outside a solution block")
            else:
                out.append(line)
            continue
        start, begin = block
        if BEGIN.match(text):
            raise MarkerError(f"{filename}:{number}: solution block opened at line {start} is not closed")
        if STUB.match(text):
            stub = []
        elif END.match(text):
            out.extend(_replacement(begin, stub, filename, start))
            block = None
        elif stub is not None:
            stub.append(text)
    if block is not None:
        raise MarkerError(f"{filename}:{block[0]}: solution block is not closed")
    return "".join(out)


def _replacement(begin: re.Match[str], stub: list[str] | None, filename: str, line: int) -> list[str]:
    indent, exercise_id, task = begin["indent"], begin["id"], begin["task"].strip()
    header = f"{indent}# Exercise {exercise_id}: {task}\n"
    if stub is None:
        message = f"Exercise {exercise_id}: {task}"
        return [header, f"{indent}raise NotImplementedError({message!r})\n"]
    lines = [header]
    for text in stub:
        stripped = text.strip()
        if stripped != "#" and not stripped.startswith("# "):
            raise MarkerError(f"{filename}:{line}: stub lines must be comments ('# code')")
        code = text.replace("# ", "", 1) if stripped != "#" else ""
        lines.append(code.rstrip() + "\n")
    return lines


def exercise_tasks(solutions: Path | None = None) -> dict[str, str]:
    """Exercise id → one-line task, as written in the solution markers."""
    tasks: dict[str, str] = {}
    for path in sorted((solutions or checkout_root() / "solutions").rglob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if match := BEGIN.match(line):
                tasks.setdefault(match["id"], match["task"].strip())
    return tasks


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _generated(solutions: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(solutions.rglob("*")):
        relative = path.relative_to(solutions)
        if path.is_dir() or SKIPPED_PARTS & set(relative.parts) or path.suffix == ".pyc":
            continue
        data = path.read_bytes()
        if path.suffix == ".py":
            data = starter_source(data.decode("utf-8"), str(relative)).encode("utf-8")
        files[relative.as_posix()] = data
    manifest = {name: _digest(data) for name, data in files.items()}
    files[MANIFEST] = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    return files


def _existing(labs: Path) -> dict[str, bytes]:
    return {
        path.relative_to(labs).as_posix(): path.read_bytes()
        for path in labs.rglob("*")
        if path.is_file() and not SKIPPED_PARTS & set(path.relative_to(labs).parts) and path.suffix != ".pyc"
    }


def sync(*, check: bool = False, force: bool = False, root: Path | None = None) -> SyncReport:
    """Bring ``labs/`` in step with ``solutions/`` (or, with ``check``, only report)."""
    root = root or checkout_root()
    solutions, labs = root / "solutions", root / "labs"
    wanted = _generated(solutions)
    present = _existing(labs) if labs.is_dir() else {}
    try:
        recorded: dict[str, str] = json.loads(present.get(MANIFEST, b"{}"))
    except ValueError:
        recorded = {}
    changed = tuple(name for name, data in wanted.items() if present.get(name) != data)
    removed = tuple(name for name in present if name not in wanted)
    # A file the learner changed since it was generated is theirs: keep it unless forced.
    refused = tuple(
        name
        for name in changed + removed
        if name != MANIFEST and name in present and recorded.get(name) != _digest(present[name])
    )
    report = SyncReport(changed, removed, refused)
    if check or (refused and not force):
        return report
    for name in changed:
        target = labs / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(wanted[name])
    for name in removed:
        (labs / name).unlink()
    return SyncReport(changed, removed, ())
