"""The trust boundary as the code draws it: trusted code never imports what runs sandboxed, and back.

``course.sandboxed`` is what runs as the learner; ``course.grading`` is the trusted side
of grading. They meet only through ``course.protocol`` (and the shared modules both
read). A self-check loads neither.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

from course.config import ROOT_ENV
from course.layout import checkout_root

COURSE = checkout_root() / "course"
SANDBOXED, GRADING = "course.sandboxed", "course.grading"


def module_name(path: Path) -> str:
    parts = path.relative_to(COURSE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved, at any depth of the file."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            stem = ".".join([*base, node.module] if node.module else base)
            found |= {stem} | {f"{stem}.{alias.name}" for alias in node.names}
    return found


def offenders(inside: str, forbidden: str) -> list[str]:
    found = []
    for path in sorted(COURSE.rglob("*.py")):
        name = module_name(path)
        if name == inside or name.startswith(inside + "."):
            found += [f"{name} imports {imported}" for imported in imports_of(path) if imported.startswith(forbidden)]
    return found


def test_trusted_code_never_imports_sandboxed_code() -> None:
    trusted = [
        f"{module_name(path)} imports {imported}"
        for path in sorted(COURSE.rglob("*.py"))
        if not module_name(path).startswith(SANDBOXED)
        for imported in imports_of(path)
        if imported.startswith(SANDBOXED)
    ]
    assert not trusted, trusted


def test_sandboxed_code_never_imports_the_trusted_side_of_grading() -> None:
    assert not offenders(SANDBOXED, GRADING), offenders(SANDBOXED, GRADING)


def test_a_self_check_loads_no_grading_and_no_sandbox_code(tmp_path: Path) -> None:
    probe = tmp_path / "import_probe.py"
    probe.write_text(
        "import sys\n\ndef pytest_sessionfinish(session):\n"
        f"    loaded = sorted(m for m in sys.modules if m.startswith(({GRADING!r}, {SANDBOXED!r})))\n"
        f"    open({str(tmp_path / 'loaded.txt')!r}, 'w').write('\\n'.join(loaded))\n"
    )
    from course.checks import _pytest_arguments, select

    arguments = _pytest_arguments(select(["1.1"]), tmp_path / "report.json", 20.0)
    command = [sys.executable, "-m", "pytest", *arguments, "-p", "import_probe"]
    env = {
        **os.environ,
        ROOT_ENV: str(checkout_root()),
        "PYTHONPATH": str(tmp_path),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    subprocess.run(command, cwd=checkout_root(), env=env, capture_output=True, timeout=120, check=False)
    assert (tmp_path / "loaded.txt").read_text() == "", "a self-check imported grading or sandbox code"
    listing = f"print([m for m in sys.modules if m.startswith(({GRADING!r}, {SANDBOXED!r}))])"
    cli = subprocess.run(
        [sys.executable, "-c", f"import sys, course.cli, course.notebook; {listing}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert cli.stdout.strip() == "[]", cli.stdout
