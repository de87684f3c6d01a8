"""`lsctl plot`: figures from run directories (`plot curves`)."""

from __future__ import annotations

from typing import Annotated

import typer

from lsctl.cli.common import QuietOpt, completer, handle_errors, info
from lsctl.evaluate.curves import BANDS

app = typer.Typer(
    no_args_is_help=True,
)


@app.command(name="curves")
@handle_errors
def curves(
    output: Annotated[
        str,
        typer.Option("--output", "-o", help="Figure file: .png, .pdf or .svg."),
    ],
    runs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Run directories from `lsctl train -o`; runs whose options differ only in the "
            "seed form one system."
        ),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label",
            help="NAME=RUN,RUN,…: these runs form system NAME, whatever their options. Repeatable.",
        ),
    ] = None,
    band: Annotated[
        str,
        typer.Option(
            "--band",
            help="Band over seeds: minmax (min to max) or sd (mean ± sd).",
            autocompletion=completer(BANDS),
        ),
    ] = "minmax",
    title: Annotated[str, typer.Option("--title", help="Text before the figure's title.")] = "",
    quiet: QuietOpt = False,
) -> None:
    """Dev accuracy, dev loss and training loss per epoch: a line per system, a band over seeds.

    Each run's selected epoch (the saved model) is a star; the CE warm-up
    epochs (--warmup-epochs of train) are shaded. Runs group into systems by
    their config.json options, seed left out, and are named after the run
    folder without its seed suffix (kwls-s1, kwls-s2 → kwls); --label names a
    group explicitly.

    Example:

        lsctl plot curves runs/ce-s* runs/kwls-s* -o curves.pdf --band sd
    """
    from lsctl.errors import UsageError
    from lsctl.evaluate.curves import BANDS, group_runs, read_run, save_curves
    from lsctl.evaluate.plots import check_plot_path

    if band not in BANDS:
        raise UsageError(f"--band {band!r}: use minmax or sd")
    check_plot_path(output)
    import os

    def same(path: str) -> str:
        # runs/a, runs/a/ and ./runs/a are one run.
        return os.path.realpath(path)

    named_paths: dict[str, list[str]] = {}
    owner: dict[str, str] = {}  # run -> the --label that lists it
    for item in label or []:
        name, sep, paths = item.partition("=")
        members = [p for p in paths.split(",") if p]
        if not sep or not name or not members:
            raise UsageError(f"--label expects NAME=RUN,RUN,…, got {item!r}")
        if name in named_paths:
            raise UsageError(f"--label {name!r} is given twice; list all its runs in one --label")
        for p in members:
            if owner.get(same(p)) == name:
                raise UsageError(f"--label {name!r} lists the run {p} twice")
            if same(p) in owner:
                raise UsageError(
                    f"--label: the run {p} is in both {owner[same(p)]!r} and {name!r}; "
                    "a run belongs to one system"
                )
            owner[same(p)] = name
        named_paths[name] = members
    # A run given twice (runs/a runs/a/) is drawn once.
    first: dict[str, str] = {}
    for p in runs or []:
        if same(p) not in owner:
            first.setdefault(same(p), p)
    rest = list(first.values())
    if not owner and not rest:
        raise UsageError("give run directories (RUN…) or --label NAME=RUN,RUN")
    cache: dict[str, object] = {}

    def load(path: str):
        if path not in cache:
            cache[path] = read_run(path)
        return cache[path]

    named = {n: [load(p) for p in ps] for n, ps in named_paths.items()}
    systems = group_runs([load(p) for p in rest], named)  # type: ignore[misc]
    save_curves(systems, output, band, title)
    summary = ", ".join(f"{s.name}×{len(s.runs)}" for s in systems)
    info(f"wrote {output} ({summary})", quiet)
