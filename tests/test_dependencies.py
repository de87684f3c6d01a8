"""The base install carries only what lsctl imports (issue 13, item 11)."""

from __future__ import annotations

import ast
import pathlib
import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None  # type: ignore[assignment]

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _imported_top_level_modules() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "lsctl").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def _requirement_names(reqs: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].strip().lower() for r in reqs}


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python 3.11")
def test_scikit_learn_is_a_test_extra_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = _requirement_names(project["dependencies"])
    assert "scikit-learn" not in base
    assert "scikit-learn" in _requirement_names(project["optional-dependencies"]["test"])
    # ...which is only right while the package itself never imports it.
    assert "sklearn" not in _imported_top_level_modules()


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python 3.11")
def test_every_base_dependency_is_imported():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    import_name = {"scikit-learn": "sklearn"}
    used = _imported_top_level_modules()
    unused = [
        d for d in _requirement_names(project["dependencies"]) if import_name.get(d, d) not in used
    ]
    assert unused == []
