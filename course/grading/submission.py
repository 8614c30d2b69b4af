"""Submissions: what a learner hands in (``course submit``) and what the grader accepts.

A submission is the learner's ``labs/`` and nothing else: a zip made by ``course
submit`` (with a manifest of course version, file hashes and time), a directory
holding ``labs/``, or a ``labs/`` directory itself.
"""

from __future__ import annotations

import compileall
import hashlib
import json
import re
import shutil
import stat
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..sync import SKIPPED_PARTS

MANIFEST = "manifest.json"
MAX_UNPACKED = 64 * 1024**2
SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Submission:
    name: str
    labs: Path


def safe_name(name: str) -> str:
    cleaned = SAFE_NAME.sub("-", name).strip(".-")
    return cleaned or "learner"


def _lab_files(labs: Path) -> list[Path]:
    return sorted(
        path
        for path in labs.rglob("*")
        if path.is_file() and not SKIPPED_PARTS & set(path.relative_to(labs).parts) and path.suffix != ".pyc"
    )


def pack(name: str, labs: Path, out_dir: Path) -> Path:
    """``submissions/NAME.zip``: the learner's labs/ and a manifest, nothing else."""
    files = _lab_files(labs)
    manifest = {
        "name": name,
        "course_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": {f"labs/{p.relative_to(labs).as_posix()}": hashlib.sha256(p.read_bytes()).hexdigest() for p in files},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{safe_name(name)}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        for path in files:
            archive.write(path, f"labs/{path.relative_to(labs).as_posix()}")
    return target


def _unpack(archive_path: Path, dest: Path) -> None:
    """Extract only regular files under labs/, refusing links, escapes and zip bombs."""
    total = 0
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            parts = Path(info.filename).parts
            if info.is_dir() or not parts or parts[0] != "labs" or ".." in parts or info.filename.startswith("/"):
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                continue
            total += info.file_size
            if total > MAX_UNPACKED:
                raise ValueError(f"{archive_path.name} unpacks to more than {MAX_UNPACKED // 1024**2} MB")
            target = dest / Path(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)


def materialise(path: Path, dest: Path) -> Submission:
    """Copy a submission into ``dest`` (readable by sandboxes) and name it."""
    path = path.resolve()
    dest.mkdir(parents=True)
    if path.is_file() and zipfile.is_zipfile(path):
        _unpack(path, dest)
        name = path.stem
    else:
        labs = path / "labs" if (path / "labs").is_dir() else path
        if not labs.is_dir():
            raise FileNotFoundError(f"{path} is neither a zip nor a directory holding labs/")
        shutil.copytree(labs, dest / "labs", symlinks=False, ignore=shutil.ignore_patterns(*SKIPPED_PARTS, "*.pyc"))
        name = path.parent.name if path.name == "labs" else path.name
    (dest / "labs").mkdir(exist_ok=True)
    # Compiling runs no code, and saves every sandbox from compiling the lab again.
    compileall.compile_dir(dest / "labs", quiet=2, workers=1)
    for item in [dest, *dest.rglob("*")]:
        item.chmod(0o755 if item.is_dir() else 0o644)
    return Submission(safe_name(name), dest / "labs")
