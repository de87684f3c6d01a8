"""The ``lsctl`` command: one Typer app, one thin module per subcommand.

Only light modules are imported here; torch, transformers, sklearn and scipy
load inside the commands that use them, so ``lsctl --help`` stays fast.
"""

from __future__ import annotations

import importlib
import re
from typing import Annotated, Any

import typer
import typer.core
import typer.main

from lsctl import __version__

# The subcommands, in pipeline order (the order `lsctl --help` lists them in),
# with their one-line summaries. Each is the module lsctl.cli.NAME, exposing
# either `app` (a command group) or `command`. The summary is declared here and
# nowhere else: the root --help lists it without importing any command module
# (they import numpy and pyarrow), and _load puts it at the top of the
# command's own help.
COMMANDS = {
    "data": "Import, inspect, split and under-sample datasets.",
    "keywords": "Count words per label and score them as KWLS keywords (WLC, WLW, WLR).",
    "softlabel": "Write soft-label targets: DATA's rows plus a soft_label vector per row.",
    "noise": "Inject seeded label noise; keep the clean label; report intended vs realized T.",
    "train": "Train a classifier; writes a run directory that `lsctl eval` reads.",
    "eval": "Predict DATA with RUN; write id, label, pred, probs and logits; print the metrics.",
    "compare": "Compare systems with a paired bootstrap, t-test and Wilcoxon over seeds, "
    "McNemar and Holm.",
    "rank": "Rank systems across datasets: average ranks, Friedman, Nemenyi CD, Holm–Wilcoxon.",
    "plot": "Figures from run directories: training curves.",
    "retrieve": "Answer retrieval (ReQA): questions rank a pool of sentences.",
}


def _load(name: str) -> Any:
    """The click command of one subcommand, importing only its module."""
    mod = importlib.import_module(f"lsctl.cli.{name}")
    # Registered on a throwaway parent exactly as on the root, so Typer builds it
    # the same way (a group with one command stays a group: `lsctl plot curves`).
    parent = typer.Typer()
    parent.callback()(_noop)
    if hasattr(mod, "app"):
        parent.add_typer(mod.app, name=name)
    else:
        parent.command(name=name)(mod.command)
    cmd = typer.main.get_command(parent).commands[name]
    cmd.help = f"{COMMANDS[name]}\n\n{cmd.help}" if cmd.help else COMMANDS[name]
    _literal_brackets(cmd)
    return cmd


# What rich's markup takes for a tag ([bold], [yes for words]); rich drops
# unknown tags, so help such as "[yes for words, no for whitespace]" vanished.
_RICH_TAG = re.compile(r"(?<!\\)\[(?=[a-z#/@][^\[]*?\])")


def _literal_brackets(cmd: Any) -> None:
    """Escape tag-like brackets in CMD's help texts when typer renders them as rich markup.

    Plain help (no rich, as docs/cli.md is generated) shows them as written.
    """
    if not typer.core.HAS_RICH or getattr(cmd, "rich_markup_mode", None) != "rich":
        return
    if cmd.help:
        cmd.help = _RICH_TAG.sub(r"\\[", cmd.help)
    for param in cmd.params:
        if getattr(param, "help", None):
            param.help = _RICH_TAG.sub(r"\\[", param.help)
    for sub in getattr(cmd, "commands", {}).values():
        _literal_brackets(sub)


def _noop() -> None:
    pass


class _LazyCommands(dict):
    """The name → command map of the root group, loading each command on first use.

    Building a command imports its module and lets Typer resolve every option's
    annotation; doing that for all subcommands cost about 0.15 s of each
    ``lsctl softlabel`` run. Names are known up front (help, completion), the
    commands only when asked for.
    """

    def __init__(self, names: list[str]) -> None:
        super().__init__(dict.fromkeys(names))

    def __getitem__(self, name: str) -> Any:
        cmd = super().__getitem__(name)
        if cmd is None:
            cmd = _load(name)
            self[name] = cmd
        return cmd

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default  # noqa: SIM401 (self.get is this method)

    def values(self) -> Any:  # type: ignore[override]
        return [self[n] for n in self]

    def items(self) -> Any:  # type: ignore[override]
        return [(n, self[n]) for n in self]


class _LazyGroup(typer.core.TyperGroup):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands(list(COMMANDS))
        self._listing = False

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # The root's help lists each command by its summary only; building the
        # commands for that imported every module (~0.3 s of `lsctl --help`).
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # the names, in pipeline order; nothing is built

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if self._listing and cmd_name in COMMANDS:
            return typer.core.TyperCommand(cmd_name, help=COMMANDS[cmd_name])
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="lsctl",
    cls=_LazyGroup,
    help="Label-smoothing experiments for text classification, from the shell.\n\n"
    "Stages read and write Parquet artifacts (or Arrow streams through pipes: use '-').\n\n"
    "\b\n"
    "Examples:\n"
    "  lsctl data import train.csv -o train.parquet\n"
    "  lsctl data split train.parquet -o splits/ --dev 0.1 --test 0.1\n"
    "  lsctl softlabel --method kwls splits/train.parquet -o kwls.parquet\n"
    "  lsctl train kwls.parquet -o runs/kwls --loss aux --dev splits/dev.parquet\n"
    "  lsctl eval runs/kwls splits/test.parquet -o preds/kwls.parquet\n"
    "  lsctl compare preds/*.parquet --baseline ce\n"
    "  lsctl rank preds/*/*.parquet --control ce --plot cd.png\n\n"
    "Each command's --help has more examples; docs/cli.md lists every option.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lsctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Label-smoothing experiments for text classification, from the shell."""


def main() -> None:
    """The ``lsctl`` entry point: click's usage errors as one ``Error:`` line, exit 2.

    Typer would draw them in a rich panel; every other lsctl error is one
    line (handle_errors), and scripts grep stderr for it.
    """
    import sys

    try:
        code = app(prog_name="lsctl", standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("Error: aborted\n")
        sys.exit(1)
    except typer.TyperException as e:
        # click's usage errors (typer vendors click; TyperException is their public base).
        if not hasattr(e, "format_message"):
            raise
        ctx = getattr(e, "ctx", None)
        where = f" (see '{ctx.command_path} -h')" if ctx is not None else ""
        message = " ".join(e.format_message().split())
        if message:  # `lsctl` or `lsctl data` alone: the help is already shown, no error to add
            sys.stderr.write(f"Error: {message}{where}\n")
        sys.exit(getattr(e, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
