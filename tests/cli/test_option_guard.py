"""Every option of every command is passed by some test (or is allow-listed with a reason).

The options come from the Typer app itself (``typer.main.get_command``,
walked recursively), so an option added anywhere is checked from the day it
is added. An option counts as passed for a command when a test source
(``tests/**/*.py``) has it as a word inside a string literal (not a comment
or docstring) in a file whose string literals also name the command; or when
an example script (``examples/*.sh``, run by CI in ``--quick`` mode) has it
as a word in a script that names the command. Aliases of one parameter
(``-o``/``--output``) are one option; the off switch of a flag
(``--no-lowercase``) is an option of its own.

That is a cheap proxy for "a test runs this option": it cannot tell whether
the test checks the option's effect (the tests next to the code do that), but
it fails loudly for an option that no test so much as spells.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import REPO

# option string -> why no test passes it. Keep this short and honest: an entry
# is a promise nobody checks.
ALLOWED: dict[str, str] = {
    "--install-completion": "Typer's own: installs into the user's shell rc files; "
    "tests/cli/test_completions.py checks the generated scripts instead",
    "--show-completion": "Typer's own: prints the script that completions/ already holds "
    "(tests/cli/test_completions.py checks those files are current)",
}


def _commands():
    """(command path, click command) for the root, every group and every command."""
    import typer

    from lsctl.cli.app import app

    def walk(cmd, path):
        yield path, cmd
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            yield from walk(sub, (*path, name))

    yield from walk(typer.main.get_command(app), ())


def _options() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(command path, option strings) per option of every command, in app order."""
    out = []
    for path, cmd in _commands():
        for param in cmd.params:
            # Typer vendors its own click, so the check is by kind, not isinstance.
            if param.param_type_name == "option":
                out.append((path, tuple(param.opts)))
                out.extend((path, (neg,)) for neg in param.secondary_opts)
    return out


def _name(opts: tuple[str, ...]) -> str:
    return max(opts, key=len)


def _literals(source: str) -> str:
    """The string literals of a Python file, docstrings left out, one per line."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return "\n".join(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    )


def _sources() -> list[str]:
    """Test literals and example scripts: the texts in which a test can pass an option."""
    here = Path(__file__).resolve()  # names options without passing them
    py = [
        _literals(p.read_text(encoding="utf-8"))
        for p in sorted((REPO / "tests").rglob("*.py"))
        if p.resolve() != here
    ]
    sh = [p.read_text(encoding="utf-8") for p in sorted((REPO / "examples").glob("*.sh"))]
    return py + sh


def _word(s: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])" + re.escape(s) + r"(?![\w-])")


def _passed(path: tuple[str, ...], opts: tuple[str, ...], sources: list[str]) -> bool:
    command = _word(path[-1]) if path else None
    used = [_word(o) for o in opts]
    return any(
        (command is None or command.search(text)) and any(u.search(text) for u in used)
        for text in sources
    )


def test_the_walk_finds_the_commands_and_their_options():
    # The guard is only as good as its enumeration: spot-check it.
    opts = set(_options())
    assert (("train",), ("--grad-clip",)) in opts
    assert (("compare",), ("--output", "-o")) in opts
    assert (("softlabel",), ("--no-lowercase",)) in opts  # the off switch is its own option
    assert (("data", "split"), ("--dev",)) in opts  # subcommands of groups
    assert ((), ("--version",)) in opts


def test_every_option_is_passed_by_some_test():
    sources = _sources()
    missing = [
        " ".join(["lsctl", *path, _name(opts)])
        for path, opts in _options()
        if _name(opts) not in ALLOWED and not _passed(path, opts, sources)
    ]
    assert not missing, (
        "options no test passes (add a test that shows the option takes effect, or an "
        "ALLOWED entry in tests/cli/test_option_guard.py saying why not):\n  "
        + "\n  ".join(missing)
    )


def test_the_allow_list_has_no_stale_entries():
    options = _options()
    stale = sorted(set(ALLOWED) - {_name(opts) for _, opts in options})
    assert not stale, f"ALLOWED names options the app no longer has: {stale}"
    sources = _sources()
    passed = sorted(
        _name(opts)
        for path, opts in options
        if _name(opts) in ALLOWED and _passed(path, opts, sources)
    )
    assert not passed, f"ALLOWED entries that a test passes now; remove them: {passed}"


def test_the_scan_sees_literals_not_prose():
    src = '''"""Docstring: --in-doc."""
# comment: --in-comment
ARGS = ["train", "--in-list", f"--in-fstring={1}", "x --in-command-string y"]
'''
    text = _literals(src)
    for seen in ("--in-list", "--in-fstring", "--in-command-string"):
        assert _word(seen).search(text), seen
    for unseen in ("--in-doc", "--in-comment"):
        assert not _word(unseen).search(text), unseen
    assert not _word("--lr").search("--lr-max"), "a longer option is not a shorter one"
