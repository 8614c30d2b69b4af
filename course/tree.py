"""Trees in which ``labs/`` is a chosen implementation.

Everything that runs a lab imports ``labs.lessonNN_slug`` from the root of the tree
being run. To run the same checks and notebooks against another implementation,
we build a temporary tree whose ``labs`` links to it and whose other entries link
to the checkout. Nothing is ever copied over the learner's files.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .layout import checkout_root, tree_root

# What a tree takes from the checkout besides labs/.
SHARED_ENTRIES = ("tests", "notebooks", "pyproject.toml")


def resolve_implementation(impl: str | Path) -> Path:
    """``labs`` (of the tree being run), ``solutions``, or a directory of lesson packages."""
    if str(impl) == "labs":
        return tree_root() / "labs"
    if str(impl) == "solutions":
        return checkout_root() / "solutions"
    path = Path(impl).resolve()
    if (path / "labs").is_dir():
        path = path / "labs"
    if not path.is_dir():
        raise FileNotFoundError(f"implementation {impl} is not a directory")
    return path


@contextmanager
def implementation_tree(impl: str | Path = "labs") -> Iterator[Path]:
    """Yield the root of a tree whose ``labs/`` is ``impl``.

    The tree being run is reused when ``impl`` is its own ``labs/``.
    """
    if str(impl) == "labs":
        yield tree_root()
        return
    source = resolve_implementation(impl)
    root = Path(tempfile.mkdtemp(prefix="course-tree-"))
    try:
        link_tree(root, source)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def link_tree(root: Path, labs: Path) -> Path:
    """Fill the empty directory ``root`` with a tree whose ``labs/`` is ``labs``."""
    (root / "labs").symlink_to(labs, target_is_directory=True)
    for name in SHARED_ENTRIES:
        (root / name).symlink_to(checkout_root() / name)
    return root
