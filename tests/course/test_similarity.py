"""The similarity report: renamed copies are found, different code and the starter are not, hostile code
renders as text, the index finds exactly the pairs a brute-force comparison finds, and no score changes."""

from __future__ import annotations

import json
import random
import textwrap
from collections import Counter
from itertools import combinations
from pathlib import Path

from course.cli import app
from course.grading.reports import CheckOutcome, write_reports
from course.grading.similarity import (
    WINDOW,
    Document,
    K,
    class_similarity,
    compare_labs,
    fingerprints,
    normalised_tokens,
    read_lesson,
    similar_pairs,
)

LESSON = "lesson99_shop"
HOSTILE = "</script><script>alert(1)</script>"

STARTER = '''\
"""A small shop."""
from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def list_items():
    return [{"id": 1, "name": "pen", "price": 2.5}, {"id": 2, "name": "ink", "price": 4}]


def total_price(items, tax):
    # Exercise 9.1: the total of the items, with tax, and a discount over 100
    raise NotImplementedError("Exercise 9.1")
'''

ADA = f'''
def total_price(items, tax):
    """Sum the prices, apply the discount, then the tax."""
    subtotal = 0
    for item in items:
        if item.get("price") is None:
            raise ValueError("an item without a price")
        subtotal += item["price"] * item.get("quantity", 1)
    if subtotal > 100:
        subtotal = subtotal * 0.9
    marker = "{HOSTILE}"
    rounded = round(subtotal * (1 + tax), 2)
    return {{"total": rounded, "currency": "EUR", "marker": marker}}
'''

# Ada's function with every name, string and comment changed, and the docstring re-worded.
BOB = f'''
def total_price(things, rate):
    """My own work, honest."""
    acc = 0  # running sum
    for thing in things:
        if thing.get("cost") is None:
            raise ValueError("missing cost")
        acc += thing["cost"] * thing.get("count", 7)
    if acc > 250:
        acc = acc * 0.75
    tag = "{HOSTILE}"
    final = round(acc * (1 + rate), 3)
    return {{"sum": final, "unit": "USD", "tag": tag}}
'''

CY = """
from decimal import Decimal


class Basket:
    def __init__(self, items):
        self.prices = [Decimal(str(item["price"])) for item in items]

    def gross(self, tax):
        net = sum(self.prices, Decimal(0))
        while net > 100 and not self.prices == []:
            net -= net / 10
            break
        return float(net * (1 + Decimal(str(tax))))


def total_price(items, tax):
    return {"total": Basket(items).gross(tax)}
"""


def _with(function: str) -> str:
    """The starter with its exercise replaced by ``function``."""
    head = STARTER.split("def total_price")[0]
    return head + textwrap.dedent(function).lstrip()


def _labs(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / "labs" / LESSON / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "labs"


def _class(tmp_path: Path) -> dict[str, Path]:
    return {
        "ada": _labs(tmp_path / "ada", {"app.py": _with(ADA)}),
        "bob": _labs(tmp_path / "bob", {"app.py": _with(BOB)}),
        "cy": _labs(tmp_path / "cy", {"app.py": _with(CY)}),
        "dee": _labs(tmp_path / "dee", {"app.py": STARTER}),
        "eve": _labs(tmp_path / "eve", {"app.py": STARTER + "\n# I will do it later\n"}),
    }


def test_renamed_copy_is_found_and_different_code_and_the_starter_are_not(tmp_path: Path) -> None:
    starter = _labs(tmp_path / "starter", {"app.py": STARTER})
    report = compare_labs(_class(tmp_path), [LESSON], starter=starter)
    pairs = {(pair.match.first, pair.match.second): pair.match.score for pair in report.pairs[LESSON]}
    assert pairs == {("ada", "bob"): 1.0}  # dee and eve are the starter: alike, but nothing of their own
    # Without the starter taken out, the two who did nothing would look like copies of each other.
    unfiltered = compare_labs(_class(tmp_path), [LESSON], starter=tmp_path / "nowhere")
    assert ("dee", "eve") in {(p.match.first, p.match.second) for p in unfiltered.pairs[LESSON]}
    # Cy wrote other code: whatever little it shares with ada is far below the threshold.
    low = compare_labs(_class(tmp_path), [LESSON], starter=starter, threshold=0.0)
    cy = [p.match.score for p in low.pairs.get(LESSON, []) if "cy" in (p.match.first, p.match.second)]
    assert all(score < 0.3 for score in cy), cy


def test_side_by_side_shows_shared_lines_and_escapes_hostile_code(tmp_path: Path) -> None:
    starter = _labs(tmp_path / "starter", {"app.py": STARTER})
    report = compare_labs(_class(tmp_path), [LESSON], starter=starter)
    [page] = report.pages().values()
    assert "<script>" not in page and "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<mark>        acc += thing[&quot;cost&quot;]" in page  # bob's copied line, highlighted
    assert "<mark>        subtotal += item[&quot;price&quot;]" in page
    assert "<mark>app = FastAPI()" not in page and "<mark>def list_items" not in page  # the starter's
    assert "<mark></mark>" not in page  # blank lines are not "shared"
    section = report.section()
    assert 'href="similarity/lesson99_shop-1.html"' in section and "100%" in section


def test_the_index_finds_exactly_the_pairs_brute_force_finds() -> None:
    for seed in range(4):
        rng = random.Random(seed)
        chunks = [_random_function(rng, i) for i in range(14)]
        starter = Document.from_sources({"app.py": "\n".join(chunks[:3])})
        documents = {
            f"l{n}": Document.from_sources({"app.py": "\n".join(rng.sample(chunks, rng.randint(2, 8)))})
            for n in range(14)
        }
        limit = 5
        # The definition, pair by pair: own = fingerprints - starter's - those more than `limit` learners have.
        have = Counter(value for d in documents.values() for value in set(d.prints).difference(starter.prints))
        common = {value for value, count in have.items() if count > limit}
        own = {name: set(d.prints).difference(starter.prints, common) for name, d in documents.items()}
        expected = {(a, b): len(own[a] & own[b]) for a, b in combinations(sorted(documents), 2) if own[a] & own[b]}
        for threshold in (0.0, 0.6):
            found = similar_pairs(documents, starter, threshold=threshold, min_shared=1, limit=limit)
            wanted = {pair: n for pair, n in expected.items() if n / min(len(own[p]) for p in pair) >= threshold}
            assert {(m.first, m.second): len(m.shared) for m in found} == wanted
        assert common and len(expected) > 10 and len(wanted) < len(expected)  # the sieve had work to do


def _random_function(rng: random.Random, number: int) -> str:
    """A function of random statements: different shapes, so different token runs."""
    shapes = [
        "x = y + 1",
        "if x > y:\n        x = y",
        "for i in range(x):\n        y += i",
        "x = [y for y in z if y]",
        "x.y(z, 1, 'a')",
        "while x:\n        x -= 1",
        "x = {1: y, 2: z}",
        "del x[y]",
        "x, y = y, x",
        "assert x is not None, 'x'",
        "with open(x) as y:\n        z = y.read()",
        "try:\n        x = y / z\n    except ZeroDivisionError:\n        x = 0",
    ]
    body = "\n    ".join(rng.choice(shapes) for _ in range(rng.randint(6, 12)))
    return f"def f{number}(x, y, z):\n    {body}\n    return x\n"


def test_renaming_rewording_and_reindenting_leave_fingerprints_unchanged() -> None:
    source = 'def f(a):\n    """Prose."""\n    # note\n    return a + 1, "x" "y"\n'
    renamed = "def g(b):\n  return b + 22, 'z'\n"
    assert fingerprints(source, k=3, window=2).keys() == fingerprints(renamed, k=3, window=2).keys()
    texts = [text for text, _, _ in normalised_tokens(source)]
    assert texts == ["def", "V", "(", "V", ")", ":", ";", "return", "V", "+", "N", ",", "S", ";"]
    changed = "def f(a):\n    return a - 1, 'x'\n"
    assert fingerprints(source, k=3, window=2).keys() != fingerprints(changed, k=3, window=2).keys()


def test_any_shared_run_of_window_plus_k_minus_one_tokens_shares_a_fingerprint() -> None:
    rng = random.Random(7)
    words = ["x", "+", "(", ")", "1", ",", "-", "*", "if", "else", "not"]
    for _ in range(30):
        common = " ".join(rng.choice(words) for _ in range(WINDOW + K - 1))
        noise = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 40))) for _ in range(4)]
        left, right = f"{noise[0]} {common} {noise[1]}", f"{noise[2]} {common} {noise[3]}"
        assert fingerprints(left).keys() & fingerprints(right).keys(), common


def test_reading_a_lesson_follows_no_link_and_skips_what_is_too_large(tmp_path: Path) -> None:
    labs = _labs(tmp_path, {"app.py": "x = 1\n", "sub/more.py": "y = 2\n", "__pycache__/c.py": "z = 3\n"})
    secret = tmp_path / "secret.py"
    secret.write_text("password = 'hunter2'\n")
    (labs / LESSON / "link.py").symlink_to(secret)
    (labs / LESSON / "linked").symlink_to(tmp_path, target_is_directory=True)
    (labs / LESSON / "huge.py").write_text("x = 1\n" * 100_000)
    sources, unread = read_lesson(labs, LESSON)
    assert sources == {"app.py": "x = 1\n", "sub/more.py": "y = 2\n"}
    assert unread == ["huge.py"]
    assert read_lesson(labs, "lesson98_missing") == ({}, [])


def test_reports_with_similarity_change_no_score_and_no_feedback(tmp_path: Path) -> None:
    starter = _labs(tmp_path / "starter", {"app.py": STARTER})
    report = compare_labs(_class(tmp_path), [LESSON], starter=starter)
    outcomes = [
        CheckOutcome(name, LESSON, "9.1", "test_total", "Totals add up.", 2, "passed" if name < "c" else "failed")
        for name in ("ada", "bob", "cy")
    ]
    write_reports(outcomes, tmp_path / "plain")
    write_reports(outcomes, tmp_path / "with", similarity=report)
    for name in ("gradebook.csv", "results.json", "feedback/ada.html", "feedback/bob.html", "feedback/cy.html"):
        assert (tmp_path / "plain" / name).read_bytes() == (tmp_path / "with" / name).read_bytes(), name
    assert "similar" not in (tmp_path / "with" / "results.json").read_text().lower()
    class_view = (tmp_path / "with" / "report.html").read_text()
    assert "<h2>Similar submissions</h2>" in class_view
    assert "Similar submissions" not in (tmp_path / "plain" / "report.html").read_text()
    page = (tmp_path / "with" / "similarity" / f"{LESSON}-1.html").read_text()
    assert "ada · bob" in page and json.loads((tmp_path / "with" / "results.json").read_text())["learners"]


def test_grade_takes_submissions_in_as_the_grader_does(tmp_path: Path) -> None:
    """class_similarity names learners as the gradebook does and compares only the graded lessons."""
    ada = _labs(tmp_path / "ada", {"app.py": _with(ADA)}).parent
    bob = _labs(tmp_path / "bob", {"app.py": _with(BOB)}).parent
    outcomes = [CheckOutcome("ada", LESSON, "9.1", "test_total", "", 1, "passed")]
    report = class_similarity([ada, bob, tmp_path / "missing"], outcomes)
    assert [(p.match.first, p.match.second) for p in report.pairs[LESSON]] == [("ada", "bob")]
    assert class_similarity([ada, bob], []).pairs == {}  # no lesson graded, none compared


def test_a_threshold_outside_zero_to_one_is_refused_before_grading(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    arguments = ["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--similarity-threshold", "1.5"]
    result = CliRunner().invoke(app, arguments, env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 2 and "similarity-threshold" in result.output
    assert not (tmp_path / "out").exists()
