"""Fixtures for the machinery's own tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from course.config import ROOT_ENV
from course.tree import implementation_tree


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first: xdist hands out tests in this order, so the others fill the time beside them."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture
def solutions_tree(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run the test in a tree whose labs/ is the solutions, whatever tree pytest runs in."""
    with implementation_tree("solutions") as root:
        monkeypatch.setenv(ROOT_ENV, str(root))
        yield root
