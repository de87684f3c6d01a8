"""docs/cli.md is current, and names every command, argument and option of the app."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO

DOC = REPO / "docs" / "cli.md"


def _walk(cmd, path=()):
    yield path, cmd
    for name, sub in (getattr(cmd, "commands", None) or {}).items():
        if not sub.hidden:
            yield from _walk(sub, (*path, name))


def _tree():
    import typer

    from lsctl.cli.app import app

    return list(_walk(typer.main.get_command(app)))


def _sections() -> dict[str, str]:
    text = DOC.read_text()
    parts = re.split(r"^## `([^`]+)`$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_cli_docs_are_current():
    res = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_cli_docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr


def test_every_command_and_option_is_documented():
    sections = _sections()
    tree = _tree()
    assert len(tree) >= 6  # root + the five stages that exist from the start
    for path, cmd in tree:
        key = " ".join(("lsctl", *path))
        assert key in sections, f"{key} has no section in docs/cli.md"
        body = sections[key]
        assert f"Usage: {key} " in body, key
        for param in cmd.params:
            if param.hidden:
                continue
            if param.param_type_name == "argument":
                assert re.search(rf"\b{re.escape(param.name)}\b", body), (key, param.name)
                continue
            for opt in (*param.opts, *param.secondary_opts):
                assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", body), (key, opt)
        assert re.search(r"(?<![\w-])--help(?![\w-])", body), key


def test_every_documented_command_exists():
    # No stale sections for commands that were renamed or removed.
    names = {" ".join(("lsctl", *path)) for path, _ in _tree()}
    assert set(_sections()) == names
