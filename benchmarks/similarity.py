"""Similarity benchmark: the class report's similar pairs for 200 synthetic learners of one lesson.

Each learner is the lesson's solution with its identifiers renamed at random and a few
lines inserted, deleted and re-worded in every file (so no file is left alike for the cache);
``--copies`` of them are a renamed copy of another learner. Prints the time to read,
fingerprint and pair the class, and whether every planted copy was found. ``--no-common``
also times the worst case: no fingerprint dropped as common, every pair compared.

    python benchmarks/similarity.py [--learners 200] [--lesson lesson08_authz] [--copies 10]
"""

from __future__ import annotations

import argparse
import keyword
import random
import re
import shutil
import tempfile
import time
from pathlib import Path

from course.grading import similarity
from course.grading.similarity import compare_labs
from course.layout import checkout_root

SHAPES = ["{a} = {b} + {n}", "if {a} > {n}:\n{i}    {a} = {b}", "{a}.append({b}({n}, '{a}'))", "del {a}[{n}]"]


def rename(text: str, rng: random.Random) -> str:
    """A third of the identifiers renamed, consistently through the file."""
    names = sorted({name for name in re.findall(r"\b[a-z_][a-z0-9_]{2,}\b", text) if not keyword.iskeyword(name)})
    chosen = {name: f"{name[:2]}_{rng.randrange(10**6)}" for name in names if rng.random() < 0.33}
    return re.sub(r"\b[a-z_][a-z0-9_]{2,}\b", lambda m: chosen.get(m.group(), m.group()), text)


def edit(text: str, rng: random.Random) -> str:
    """Three lines inserted (indented like the next one), two deleted, one string re-worded."""
    lines = text.splitlines()
    for _ in range(3):
        at = rng.randrange(len(lines) + 1)
        indent = re.match(r"\s*", lines[at] if at < len(lines) else "").group()  # type: ignore[union-attr]
        words = {"a": f"v{rng.randrange(10**6)}", "b": f"w{rng.randrange(10**6)}", "n": rng.randrange(1000)}
        lines.insert(at, indent + rng.choice(SHAPES).format(i=indent, **words))
    for _ in range(2):
        if len(lines) > 10:
            del lines[rng.randrange(len(lines))]
    return re.sub(r'"[^"\n]*"', f'"{rng.randrange(10**6)}"', "\n".join(lines) + "\n", count=1)


def make_class(root: Path, lesson: str, learners: int, copies: int, seed: int) -> dict[str, Path]:
    rng = random.Random(seed)
    solution = checkout_root() / "solutions" / lesson
    files = {path.relative_to(solution): path.read_text() for path in sorted(solution.rglob("*.py"))}
    texts: dict[str, dict[Path, str]] = {}
    for n in range(learners):
        original = texts[f"l{n - copies:03d}"] if n >= copies and n < 2 * copies else None
        if original is not None:  # a copy of the learner `copies` before: renamed again, nothing else
            texts[f"l{n:03d}"] = {path: rename(text, rng) for path, text in original.items()}
        else:
            texts[f"l{n:03d}"] = {path: edit(rename(text, rng), rng) for path, text in files.items()}
    labs = {}
    for name, mine in texts.items():
        for path, text in mine.items():
            target = root / name / "labs" / lesson / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        labs[name] = root / name / "labs"
    return labs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--lesson", default="lesson08_authz")  # the largest lab
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-common", action="store_true", help="also time with no fingerprint dropped as common")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="course-bench-similarity-"))
    try:
        labs = make_class(root, args.lesson, args.learners, args.copies, args.seed)
        planted = {(f"l{n:03d}", f"l{n + args.copies:03d}") for n in range(args.copies)}
        runs = [("default", similarity.COMMON_MIN)] + [("no common", args.learners)] * args.no_common
        for label, common_min in runs:
            similarity.COMMON_MIN = common_min
            started, cpu = time.perf_counter(), time.process_time()
            report = compare_labs(labs, [args.lesson])
            pages = report.pages()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            found = {(p.match.first, p.match.second) for p in report.pairs.get(args.lesson, [])}
            print(
                f"{label}: {args.learners} learners of {args.lesson} in {seconds:.2f} s ({cpu:.2f} s CPU); "
                f"{len(found) + report.more.get(args.lesson, 0)} pairs above {report.threshold:g} "
                f"({len(pages)} pages, {sum(map(len, pages.values())) // 1024} kB); "
                f"planted copies found: {len(planted & found)}/{len(planted)}"
            )
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
