"""Notebooks are teaching text: a short core path, asides collapsed, and the course's own voice."""

import re

import pytest

from course.layout import checkout_root, lessons
from course.prose import CORE_WORDS, measure_file

pytestmark = pytest.mark.embedded_only
ROOT = checkout_root()
# The course is written from notes a learner never sees; it speaks in its own voice.
FOREIGN_SOURCES = re.compile(
    r"\bstudy notes?\b|\bthe notes (?:say|show|found|recommend)|\bthe seed files?\b", re.IGNORECASE
)


@pytest.mark.parametrize("lesson", lessons(), ids=lambda lesson: lesson.package)
def test_the_core_path_is_short_and_asides_are_collapsed(lesson) -> None:
    prose = measure_file(ROOT / lesson.notebook)
    assert prose.core_words <= CORE_WORDS, (
        f"{lesson.notebook}: {prose.core_words} words on the core path (at most {CORE_WORDS}); "
        "move production asides into a collapsed '## Going further' section"
    )
    assert prose.collapsed_asides == prose.asides, f"{lesson.notebook}: every 'Going further' section starts collapsed"


def test_the_course_never_mentions_notes_a_learner_does_not_have() -> None:
    texts = [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("solutions/**/*.py"), *ROOT.glob("tests/exercises/*.py")]
    texts += [ROOT / "README.md"]
    found = [
        f"{path.relative_to(ROOT)}: {match[0]!r}"
        for path in texts
        for match in FOREIGN_SOURCES.finditer(path.read_text())
    ]
    assert not found, found
