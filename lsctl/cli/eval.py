"""`lsctl eval`: predict a dataset with a trained run and report its metrics."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lsctl.cli.common import (
    JsonOpt,
    QuietOpt,
    check_json_vs_stdout,
    emit_json,
    handle_errors,
    info,
    print_table,
    progress,
)


@handle_errors
def command(
    run: Annotated[str, typer.Argument(help="Run directory written by `lsctl train`.")],
    data: Annotated[str, typer.Argument(help="Labelled dataset to predict ('-' for stdin).")],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Predictions artifact (.parquet, .arrows or '-'); omit to only print the metrics.",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="System name for `lsctl compare`; default the run folder's name."
        ),
    ] = None,
    bins: Annotated[int, typer.Option("--bins", help="Equal-width bins for ECE.")] = 15,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot", help="Reliability diagram with confidence histogram (.png, .pdf or .svg)."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Inference batch size.")] = 256,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")] = "auto",
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Predict DATA with RUN; write id, label, pred, probs and logits; print the metrics.

    Metrics: accuracy, macro-F1, per-class precision/recall/F1, NLL, Brier and
    ECE (equal-width bins, L1, top-label confidence).

    Example:

        lsctl eval runs/trec-cnn-s1 trec/test.parquet -o preds/cnn-s1.parquet --name cnn --plot rel.png
    """
    from lsctl.artifacts import check_output, write_artifact
    from lsctl.errors import UsageError

    check_json_vs_stdout(as_json, output)
    if bins < 1:
        raise UsageError("--bins must be at least 1")
    if batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise UsageError(f"--device {device!r}: choose auto, cpu or cuda")
    if output is not None:
        check_output(output, [data])
    if plot:
        from lsctl.evaluate.plots import check_plot_path

        check_plot_path(plot)

    from lsctl.evaluate.run import evaluate

    ev = evaluate(run, data, name, bins, batch_size, device, progress(quiet, as_json))
    if output is not None:
        write_artifact(ev.table, output, ev.meta, [data])
    if plot:
        from lsctl.evaluate.metrics import reliability
        from lsctl.evaluate.plots import reliability_diagram

        reliability_diagram(reliability(ev.probs, ev.y, bins), plot, ev.meta["name"])
    summary = {"name": ev.meta["name"], "seed": ev.meta["seed"], "output": output, **ev.summary}
    if as_json:
        emit_json(summary)
    elif not quiet:
        _render(summary)


def _render(s: dict[str, Any]) -> None:
    from rich.table import Table

    head = Table(title=f"{s['name']} on {s['n']} instances", title_justify="left")
    for col in ("accuracy", "macro-F1", "NLL", "Brier", f"ECE ({s['bins']} bins)"):
        head.add_column(col, justify="right")
    head.add_row(*(f"{s[k]:.4f}" for k in ("accuracy", "macro_f1", "nll", "brier", "ece")))
    print_table(head)
    per = Table(title="per class", title_justify="left")
    for col in ("label", "precision", "recall", "F1", "support"):
        per.add_column(col, justify="left" if col == "label" else "right")
    for lab, v in s["per_class"].items():
        per.add_row(
            lab, f"{v['precision']:.4f}", f"{v['recall']:.4f}", f"{v['f1']:.4f}", str(v["support"])
        )
    print_table(per)
    if s["output"] not in (None, "-"):
        info(f"wrote {s['output']}")
