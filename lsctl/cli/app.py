"""The ``lsctl`` command: one Typer app, one thin module per subcommand.

Only light modules are imported here; torch, transformers, sklearn and scipy
load inside the commands that use them, so ``lsctl --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lsctl import __version__

app = typer.Typer(
    name="lsctl",
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


def _register() -> None:
    # Each subcommand module exposes either `app` (a command group) or `command`.
    # Pipeline order, which is the order `lsctl --help` lists them in.
    from lsctl.cli import (
        compare,
        data,
        eval,
        keywords,
        noise,
        plot,
        rank,
        retrieve,
        softlabel,
        train,
    )

    app.add_typer(data.app, name="data")
    app.command(name="keywords")(keywords.command)
    app.command(name="softlabel")(softlabel.command)
    app.command(name="noise")(noise.command)
    app.command(name="train")(train.command)
    app.command(name="eval")(eval.command)
    app.command(name="compare")(compare.command)
    app.command(name="rank")(rank.command)
    app.add_typer(plot.app, name="plot")
    app.add_typer(retrieve.app, name="retrieve")


_register()


def main() -> None:
    app(prog_name="lsctl")


if __name__ == "__main__":
    main()
