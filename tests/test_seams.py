"""One seam per command: the CLI parses and renders, the core computes, stamps and writes.

- No module under ``lsctl/cli/`` builds artifact metadata (``make_meta``) or
  writes an artifact (``write_artifact``, ``write_batches``): the command's
  single core call does both, so the Python API gets identical files.
- No module outside ``lsctl/cli/`` imports typer or rich.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PKG = REPO / "lsctl"
WRITERS = {"make_meta", "write_artifact", "write_batches"}
UI = {"typer", "rich", "click"}

# Commands still being moved to the seam, each with the engineer's note of why.
# The test below fails as soon as one of them is clean, so the list only shrinks.
PENDING: dict[str, str] = {}


def _calls(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
            if name in WRITERS:
                names.add(name)
    return names


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & UI


def test_no_cli_module_builds_or_writes_an_artifact():
    offenders = {
        p.name: sorted(_calls(p))
        for p in sorted((PKG / "cli").glob("*.py"))
        if _calls(p) and p.name not in PENDING
    }
    assert offenders == {}, f"move these calls into the command's core function: {offenders}"


def test_pending_list_is_not_stale():
    clean = [name for name in PENDING if not (PKG / "cli" / name).exists()]
    clean += [n for n in PENDING if (PKG / "cli" / n).exists() and not _calls(PKG / "cli" / n)]
    assert clean == [], f"{clean} no longer write artifacts: remove them from PENDING"


def test_the_core_imports_no_ui_library():
    offenders = {
        str(p.relative_to(REPO)): sorted(_imports(p))
        for p in sorted(PKG.rglob("*.py"))
        if "cli" not in p.relative_to(PKG).parts[:1] and _imports(p)
    }
    assert offenders == {}, f"the core must not import typer or rich: {offenders}"


def test_the_checks_see_a_violation(tmp_path):
    """The scanners themselves: a planted call and a planted import are found."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import rich.table\nfrom typer import Option\n"
        "def f(a):\n    a.write_artifact(1)\n    make_meta('dataset', None)\n"
    )
    assert _calls(bad) == {"write_artifact", "make_meta"}
    assert _imports(bad) == {"rich", "typer"}
