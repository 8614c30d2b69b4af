"""Similar submissions: which learners' code is alike, lesson by lesson, for the instructor's eyes only.

MOSS's method (Schleimer, Wilkerson and Aiken, *Winnowing*, 2003). Each Python file of a lesson
is tokenized; identifiers become ``V``, strings ``S``, numbers ``N``; comments, indentation,
blank lines and bare string statements (docstrings: the learner's prose) are dropped, so
renaming, re-wording or re-indenting changes nothing. Every run of ``K`` tokens is hashed and,
of every ``WINDOW`` consecutive hashes, the smallest (the rightmost on a tie) is kept with the
lines it covers: two files that share a run of ``WINDOW + K - 1`` tokens are sure to share a
fingerprint.

A learner's own fingerprints of a lesson are its fingerprints less the starter's (code left as
handed out is shared by everyone) and less those most of the class has (the obvious way to
write an exercise: MOSS's ``-m``). Two learners' similarity is their shared own fingerprints
over the smaller of their two counts: containment rather than Jaccard, so that copying a
classmate's work and adding more of one's own still scores 1.0. Only pairs that share a
fingerprint are ever counted, through an index fingerprint → learners.

This never changes a score and never reaches a learner: it feeds a section of the class
report and one side-by-side page per pair. Learner files are read without following links,
within byte limits, and every line is escaped on its way into HTML.
"""

from __future__ import annotations

import contextlib
import io
import keyword
import math
import os
import tempfile
import tokenize
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from html import escape
from itertools import combinations
from pathlib import Path

from ..config import SubmissionLimits
from ..layout import checkout_root
from ..safe_fs import UnsafeFile, open_directory, read_bounded, remove_tree
from ..sync import SKIPPED_PARTS
from .batch import take_in
from .reports import CheckOutcome, OutputDir, _page, _table, truncate

K = 12  # tokens per hashed run: about one short statement
WINDOW = 6  # any shared run of WINDOW + K - 1 = 17 tokens is found
THRESHOLD = 0.8
MIN_SHARED = 4  # fewer shared fingerprints than this is a line or two: never reported
COMMON_SHARE = 0.1  # a fingerprint more than this share of the class has is common knowledge...
COMMON_MIN = 10  # ...but only when more than this many learners have it (MOSS's default -m)
MAX_FILE_BYTES = 256 * 1024  # a larger .py file is not read
MAX_LESSON_BYTES = 1024**2  # the largest solution is 50 kB; padding beyond this is not read
MAX_PAIRS = 30  # side-by-side pages per lesson
MAX_BLOCKS = 12  # matched blocks shown per pair
MAX_BLOCK_LINES = 40  # lines shown per side of a block
MAX_LINE_CHARS = 160
CONTEXT = 1  # lines shown around a block

KEYWORDS = frozenset(keyword.kwlist)  # soft keywords (match, case, type) are names too
KINDS = {tokenize.STRING: "S", tokenize.NUMBER: "N", tokenize.NEWLINE: ";"}  # else a token stands for itself
DROPPED = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER}
# Python 3.12+ splits an f-string into parts; collapse them into one string like 3.11 does.
FSTRING_START: int | None = getattr(tokenize, "FSTRING_START", None)
FSTRING_END: int | None = getattr(tokenize, "FSTRING_END", None)

Token = tuple[str, int, int]  # normalised text, first line, last line
Span = tuple[str, int, int]  # file, first line, last line


# --- fingerprints ------------------------------------------------------------------------------


def _raw_tokens(source: str) -> Iterator[tokenize.TokenInfo]:
    """The tokens of ``source`` up to the first that cannot be read: broken code is still compared."""
    with contextlib.suppress(tokenize.TokenError, SyntaxError):
        yield from tokenize.generate_tokens(io.StringIO(source).readline)


def normalised_tokens(source: str) -> list[Token]:
    """``source`` as normalised tokens with their lines; docstrings and other bare strings left out."""
    tokens: list[Token] = []
    statement: list[Token] = []  # the logical line being read
    depth = start = 0  # inside an f-string (3.12+), and where it started
    for kind, string, (first, _), (last, _), _ in _raw_tokens(source):  # the hot loop: a million tokens a class
        if kind in DROPPED:
            continue
        if kind == FSTRING_START:
            depth += 1
            start = start if depth > 1 else first
            continue
        if depth:
            depth -= kind == FSTRING_END
            if not depth:
                statement.append(("S", start, last))
            continue
        text = ("V" if string not in KEYWORDS else string) if kind == tokenize.NAME else KINDS.get(kind, string)
        if text == "S" and statement and statement[-1][0] == "S":  # "a" "b" is one string
            statement[-1] = ("S", statement[-1][1], last)
            continue
        statement.append((text, first, last))
        if text == ";":
            if len(statement) != 2 or statement[0][0] != "S":  # a bare string statement is prose
                tokens += statement
            statement = []
    return tokens + (statement if [t for t, _, _ in statement] != ["S"] else [])


@cache
def _token_id(text: str) -> int:
    """A stable number per token text, so hashes are the same in every run (str hashes are not)."""
    return zlib.crc32(text.encode())


def fingerprints(source: str, k: int = K, window: int = WINDOW) -> dict[int, list[tuple[int, int]]]:
    """The winnowed fingerprints of one file: hash → the (first, last) lines of each place it was chosen."""
    tokens = normalised_tokens(source)
    ids = [_token_id(text) for text, _, _ in tokens]
    hashes = list(map(hash, zip(*(ids[i:] for i in range(k)), strict=False)))  # tuples of ints: stable
    # (hash, -position): the minimum of a window is its smallest hash, the rightmost on a tie.
    keyed = list(zip(hashes, range(0, -len(hashes), -1), strict=True))
    if len(keyed) < window:
        chosen = [min(keyed)] if keyed else []
    else:
        chosen = list(dict.fromkeys(map(min, zip(*(keyed[i:] for i in range(window)), strict=False))))
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for value, position in chosen:
        found[value].append((tokens[-position][1], tokens[k - 1 - position][2]))
    return dict(found)


@dataclass
class Document:
    """One learner's lesson (or the starter's): its files' lines and fingerprints."""

    lines: dict[str, list[str]] = field(default_factory=dict)
    prints: dict[int, list[Span]] = field(default_factory=dict)

    @classmethod
    def from_sources(
        cls, sources: Mapping[str, str], cache: dict[str, dict[int, list[tuple[int, int]]]] | None = None
    ) -> Document:
        """Fingerprint each file; ``cache`` (text → fingerprints) spares files many learners left alike."""
        known = {} if cache is None else cache
        document = cls()
        for name, text in sorted(sources.items()):
            document.lines[name] = text.splitlines()
            if text not in known:
                known[text] = fingerprints(text)
            for value, spans in known[text].items():
                document.prints.setdefault(value, []).extend((name, first, last) for first, last in spans)
        return document


def read_lesson(labs: Path, lesson: str) -> tuple[dict[str, str], list[str]]:
    """The ``.py`` files of ``labs/lesson`` (path → text) and what was left unread; no link is followed."""
    sources: dict[str, str] = {}
    unread: list[str] = []
    budget = MAX_LESSON_BYTES
    pending = [(labs / lesson, "")]  # a folder at a time, each opened refusing links
    while pending:
        folder, prefix = pending.pop()
        try:
            with open_directory(folder) as descriptor:
                with os.scandir(descriptor) as scan:
                    entries = sorted((entry.name, entry.is_dir(follow_symlinks=False)) for entry in scan)
                for name, is_dir in entries:
                    if is_dir and name not in SKIPPED_PARTS:
                        pending.append((folder / name, f"{prefix}{name}/"))
                    elif not is_dir and name.endswith(".py"):
                        try:
                            data = read_bounded(name, min(MAX_FILE_BYTES, budget), dir_fd=descriptor)
                        except UnsafeFile:
                            unread.append(f"{prefix}{name}")
                            continue
                        except OSError:  # a link, or gone: not code we compare
                            continue
                        budget -= len(data)
                        sources[f"{prefix}{name}"] = data.decode(errors="replace")
        except OSError:  # no such lesson, or a folder swapped for a link: nothing to read there
            continue
    return sources, unread


# --- pairs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """Two learners of one lesson who share enough of their own fingerprints."""

    first: str
    second: str
    shared: frozenset[int]
    own_first: int  # own fingerprints of each: starter and common ones left out
    own_second: int

    @property
    def score(self) -> float:
        return len(self.shared) / min(self.own_first, self.own_second)


def common_limit(learners: int) -> int:
    """How many learners may share a fingerprint before it counts as the obvious way to write it."""
    return max(COMMON_MIN, math.ceil(COMMON_SHARE * learners))


def own_fingerprints(
    documents: Mapping[str, Document], starter: Document, limit: int
) -> tuple[dict[str, set[int]], dict[int, list[str]]]:
    """Each learner's fingerprints less the starter's and the common ones, and the index fingerprint → learners."""
    own = {name: set(document.prints).difference(starter.prints) for name, document in documents.items()}
    index: dict[int, list[str]] = defaultdict(list)
    for name, values in own.items():
        for value in values:
            index[value].append(name)
    for value in [value for value, names in index.items() if len(names) > limit]:
        for name in index.pop(value):
            own[name].discard(value)
    return own, index


def similar_pairs(
    documents: Mapping[str, Document],
    starter: Document,
    *,
    threshold: float = THRESHOLD,
    min_shared: int = MIN_SHARED,
    limit: int | None = None,
) -> list[Match]:
    """The pairs whose similarity is at least ``threshold``, most similar first.

    Only pairs found together in the index are counted: a fingerprint shared by m learners
    costs m(m-1)/2 counts, and m is at most ``limit``, so no pair that shares nothing is ever looked at.
    """
    own, index = own_fingerprints(documents, starter, common_limit(len(documents)) if limit is None else limit)
    counts: Counter[tuple[str, str]] = Counter()
    for names in index.values():
        if len(names) > 1:
            counts.update(combinations(sorted(names), 2))
    found = [
        Match(first, second, frozenset(own[first] & own[second]), len(own[first]), len(own[second]))
        for (first, second), shared in counts.items()
        if shared >= min_shared and shared / min(len(own[first]), len(own[second])) >= threshold
    ]
    return sorted(found, key=lambda match: (-match.score, -len(match.shared), match.first, match.second))


# --- side by side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A run of code one learner shares with another, each side as (line number, text, shared) rows."""

    first_file: str
    second_file: str
    first: tuple[tuple[int, str, bool], ...]
    second: tuple[tuple[int, str, bool], ...]


def _shared_lines(document: Document, shared: Iterable[int]) -> dict[str, set[int]]:
    lines: dict[str, set[int]] = defaultdict(set)
    for value in shared:
        for name, first, last in document.prints[value]:
            lines[name].update(range(first, last + 1))
    return lines


def _rows(document: Document, name: str, first: int, last: int, shared: set[int]) -> tuple[tuple[int, str, bool], ...]:
    source = document.lines.get(name, [])
    start, end = max(1, first - CONTEXT), min(len(source), last + CONTEXT, first + MAX_BLOCK_LINES - 1)
    rows = ((n, truncate(source[n - 1], MAX_LINE_CHARS)) for n in range(start, end + 1))
    return tuple((n, text, n in shared and bool(text.strip())) for n, text in rows)


def side_by_side(first: Document, second: Document, shared: Iterable[int]) -> tuple[Block, ...]:
    """The shared code of two learners as blocks: places in both that share fingerprints, merged in order."""
    shared = sorted(shared)
    spans = sorted((first.prints[value][0], second.prints[value][0]) for value in shared)
    merged: list[tuple[Span, Span]] = []
    for (file_a, a1, a2), (file_b, b1, b2) in spans:
        if merged:
            (last_a, c1, c2), (last_b, d1, d2) = merged[-1]
            if file_a == last_a and file_b == last_b and a1 <= c2 + 1 and d1 - 1 <= b1 <= d2 + 1:
                merged[-1] = (file_a, c1, max(a2, c2)), (file_b, min(b1, d1), max(b2, d2))
                continue
        merged.append(((file_a, a1, a2), (file_b, b1, b2)))
    marked_a, marked_b = _shared_lines(first, shared), _shared_lines(second, shared)
    biggest = sorted(merged, key=lambda pair: pair[0][1] - pair[0][2])[:MAX_BLOCKS]
    return tuple(
        Block(a[0], b[0], _rows(first, *a, marked_a[a[0]]), _rows(second, *b, marked_b[b[0]]))
        for a, b in sorted(biggest)
    )


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimilarPair:
    lesson: str
    match: Match
    blocks: tuple[Block, ...]

    def page_name(self, number: int) -> str:
        return f"{self.lesson}-{number}.html"


@dataclass
class SimilarityReport:
    """The class's similar pairs per lesson, with what to show of each; rendered only for the instructor."""

    threshold: float
    lessons: list[str]
    pairs: dict[str, list[SimilarPair]] = field(default_factory=dict)
    more: dict[str, int] = field(default_factory=dict)  # pairs above the threshold beyond MAX_PAIRS
    unread: list[str] = field(default_factory=list)  # "learner: lesson/file" too large to compare

    def pages(self) -> dict[str, str]:
        """similarity/NAME.html → its side-by-side page."""
        return {
            pair.page_name(number): pair_page(pair)
            for pairs in self.pairs.values()
            for number, pair in enumerate(pairs, 1)
        }

    def write(self, target: OutputDir) -> None:
        directory = target.subdirectory("similarity")
        try:
            for name, page in self.pages().items():
                target.write(name, page, directory)
        finally:
            os.close(directory)

    def section(self) -> str:
        """The class report's "Similar submissions" section."""
        parts = [
            "<h2>Similar submissions</h2>",
            f'<p class="muted">Pairs of learners whose own code of a lesson (the starter left out) is at least '
            f"{100 * self.threshold:.0f}% alike once names, strings and numbers are ignored. A lead to look at, "
            f"never a verdict: it changes no score, and learners do not see it.</p>",
        ]
        for lesson in self.lessons:
            pairs = self.pairs.get(lesson, [])
            if not pairs:
                continue
            rows = [
                [
                    f'<a href="similarity/{escape(pair.page_name(number))}">'
                    f"{escape(pair.match.first)} · {escape(pair.match.second)}</a>",
                    f"{100 * pair.match.score:.0f}%",
                    str(len(pair.match.shared)),
                ]
                for number, pair in enumerate(pairs, 1)
            ]
            parts += [f"<h3>{escape(lesson)}</h3>", _table(["Learners", "Similarity", "Shared"], rows, numeric=[1, 2])]
            if self.more.get(lesson):
                parts.append(f'<p class="muted">and {self.more[lesson]} more pairs above the threshold</p>')
        if not self.pairs:
            parts.append("<p>No pair above the threshold.</p>")
        if self.unread:
            shown = ", ".join(escape(item) for item in self.unread[:20])
            parts.append(f'<p class="muted">Too large to compare: {shown}{" …" * (len(self.unread) > 20)}</p>')
        return "\n".join(parts)


SIDE_CSS = (
    "<style>table.sbs{width:100%;table-layout:fixed}table.sbs td{vertical-align:top;padding:0 .3rem}"
    "table.sbs pre{margin:0;padding:.3rem}.ln{color:#8c959f;user-select:none}mark{background:#fff8c5}</style>"
)


def _column(rows: Sequence[tuple[int, str, bool]]) -> str:
    lines = (
        f'<span class="ln">{number:>4}</span> ' + (f"<mark>{escape(text)}</mark>" if marked else escape(text))
        for number, text, marked in rows
    )
    return "<pre>" + "\n".join(lines) + "</pre>"


def pair_page(pair: SimilarPair) -> str:
    """Two learners' shared code side by side, shared lines highlighted; every learner string escaped."""
    match = pair.match
    first, second = escape(match.first), escape(match.second)
    parts = [
        SIDE_CSS,
        f"<h1>{first} · {second}</h1>",
        f'<p class="total">{escape(pair.lesson)}: {100 * match.score:.0f}% similar</p>',
        f'<p class="muted">{len(match.shared)} shared fingerprints of {match.own_first} ({first}) and '
        f"{match.own_second} ({second}) of their own. Highlighted lines share fingerprints; "
        f'<a href="../report.html">back to the class report</a>.</p>',
    ]
    for block in pair.blocks:
        parts.append(
            f'<table class="sbs"><thead><tr><th>{first}: {escape(block.first_file)}</th>'
            f"<th>{second}: {escape(block.second_file)}</th></tr></thead>"
            f"<tbody><tr><td>{_column(block.first)}</td><td>{_column(block.second)}</td></tr></tbody></table>"
        )
    return _page(f"Similar: {match.first} and {match.second}", "\n".join(parts))


# --- a class -----------------------------------------------------------------------------------


def compare_labs(
    labs: Mapping[str, Path],
    lessons: Sequence[str],
    *,
    threshold: float = THRESHOLD,
    starter: Path | None = None,
    max_pairs: int = MAX_PAIRS,
) -> SimilarityReport:
    """Compare every learner's ``labs/`` (name → directory) with every other's, one lesson at a time."""
    starter_labs = checkout_root() / "labs" if starter is None else starter
    report = SimilarityReport(threshold, list(lessons))
    for lesson in lessons:
        cache: dict[str, dict[int, list[tuple[int, int]]]] = {}
        documents = {}
        for name, directory in labs.items():
            sources, unread = read_lesson(directory, lesson)
            report.unread += [f"{name}: {lesson}/{path}" for path in unread]
            documents[name] = Document.from_sources(sources, cache)
        base = Document.from_sources(read_lesson(starter_labs, lesson)[0], cache)
        matches = similar_pairs(documents, base, threshold=threshold)
        if matches:
            report.pairs[lesson] = [
                SimilarPair(lesson, m, side_by_side(documents[m.first], documents[m.second], m.shared))
                for m in matches[:max_pairs]
            ]
            report.more[lesson] = max(0, len(matches) - max_pairs)
    return report


def class_similarity(
    paths: Sequence[Path], outcomes: Sequence[CheckOutcome], threshold: float = THRESHOLD
) -> SimilarityReport:
    """``course grade``'s similarity report: the graded lessons of each submission, taken in as the grader does."""
    lessons = sorted({outcome.lesson for outcome in outcomes if outcome.lesson})
    scratch = Path(tempfile.mkdtemp(prefix="course-similarity-"))
    try:
        # The grader's own intake: the same names, limits and refusals, and no link followed.
        taken = take_in(paths, scratch / "submissions", SubmissionLimits())
        labs = {intake.name: intake.submission.labs for intake in taken if intake.submission is not None}
        return compare_labs(labs, lessons, threshold=threshold)
    finally:
        remove_tree(scratch)
