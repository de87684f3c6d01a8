"""Write docs/cli.md: the ``--help`` of every lsctl command and subcommand.

Commands are discovered by walking the app, so a new subcommand appears here
the next time this runs (``bash scripts/regen_docs.sh``). Help is rendered as
plain text at a fixed width, so the file is the same on every machine.

    python scripts/gen_cli_docs.py           # rewrite docs/cli.md
    python scripts/gen_cli_docs.py --check   # exit 1 if docs/cli.md is stale
"""

from __future__ import annotations

import os

# Plain click-style help (no rich boxes, no colour) is read at typer import
# time, so it must be set before anything imports typer.
os.environ["TYPER_USE_RICH"] = "0"
os.environ["NO_COLOR"] = "1"
os.environ["TERM"] = "dumb"
os.environ["COLUMNS"] = "100"

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "cli.md"
PROG = "lsctl"
WIDTH = 100


def walk(cmd, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """Yield (path, command) for the root and every visible subcommand, depth first."""
    yield path, cmd
    # Registration order, the same order the root --help lists them in.
    for name in getattr(cmd, "commands", {}) or {}:
        sub = cmd.commands[name]
        if not getattr(sub, "hidden", False):
            yield from walk(sub, (*path, name))


def commands():
    import typer

    from lsctl.cli.app import app

    return app, list(walk(typer.main.get_command(app)))


def help_text(app, path: tuple[str, ...]) -> str:
    from typer.testing import CliRunner

    res = CliRunner().invoke(
        app,
        [*path, "--help"],
        prog_name=PROG,
        terminal_width=WIDTH,
        max_content_width=WIDTH,
    )
    if res.exit_code != 0:
        raise SystemExit(f"{PROG} {' '.join(path)} --help failed: {res.output}")
    return "\n".join(line.rstrip() for line in res.stdout.strip("\n").splitlines())


def title(path: tuple[str, ...]) -> str:
    return " ".join((PROG, *path))


def anchor(path: tuple[str, ...]) -> str:
    # GitHub's slug for a heading "`lsctl data import`": lowercase, spaces→'-', backticks dropped.
    return title(path).replace(" ", "-")


def render() -> str:
    app, cmds = commands()
    out = [
        f"# {PROG} command reference",
        "",
        "Generated from `--help` by `scripts/gen_cli_docs.py` (run `bash scripts/regen_docs.sh`);",
        "do not edit by hand. `lsctl COMMAND --help` prints the same text, with colours.",
        "",
    ]
    for path, _ in cmds:
        indent = "  " * max(len(path) - 1, 0)
        out.append(f"{indent}- [`{title(path)}`](#{anchor(path)})")
    for path, _ in cmds:
        out += ["", f"## `{title(path)}`", "", "```text", help_text(app, path), "```"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print("docs/cli.md is stale; run `bash scripts/regen_docs.sh`", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
