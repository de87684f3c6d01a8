"""The docstring examples in lsctl are run, so an example that has gone stale fails CI."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import lsctl


def _modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(lsctl.__path__, "lsctl."):
        spec = importlib.util.find_spec(info.name)
        if spec and spec.origin and spec.origin.endswith(".py"):
            with open(spec.origin, encoding="utf-8") as f:
                if ">>> " in f.read():
                    names.append(info.name)
    return names


MODULES = _modules_with_examples()


def test_examples_are_found() -> None:
    # A broken walk would make the parametrized test below vanish silently.
    assert len(MODULES) >= 15


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder().find(module)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0, f"{name}: its >>> lines are not in a docstring doctest finds"
    assert result.failed == 0, f"{name}: {result.failed} docstring example(s) failed (output above)"
