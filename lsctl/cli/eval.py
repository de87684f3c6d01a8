"""`lsctl eval`: predict a dataset with a trained run and report its metrics."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lsctl.cli.common import (
    JsonOpt,
    QuietOpt,
    check_json_vs_stdout,
    completer,
    emit_json,
    handle_errors,
    info,
    print_table,
    progress,
    report_written,
)
from lsctl.train.config import DEVICES


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
            "--name",
            help="System name for `lsctl compare`; default the run folder's name without "
            "its seed marker (runs/ce-s2 → ce, seed 2).",
        ),
    ] = None,
    bins: Annotated[
        int,
        typer.Option(
            "--bins", help="Bins for ECE (equal-width), adaptive ECE (equal-mass), classwise ECE."
        ),
    ] = 15,
    calibrate: Annotated[
        str | None,
        typer.Option(
            "--calibrate",
            help="Fit a temperature on DEV (a labelled dev set or this run's eval predictions on "
            "it) and write the temperature-scaled predictions.",
        ),
    ] = None,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot", help="Reliability diagram with confidence histogram (.png, .pdf or .svg)."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Inference batch size.")] = 256,
    device: Annotated[
        str,
        typer.Option("--device", help="auto, cpu or cuda.", autocompletion=completer(DEVICES)),
    ] = "auto",
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Metrics: accuracy, macro-F1, per-class precision/recall/F1, NLL, Brier,
    ECE (equal-width bins, L1, top-label confidence), adaptive ECE (equal-mass
    bins) and classwise ECE (Kull et al. 2019).

    With --calibrate DEV, one temperature T is fitted on DEV by minimising the
    NLL (Guo et al. 2017); every metric is shown before and after, and -o
    writes the calibrated predictions (system name NAME-ts unless --name).

    DATA without a label column is predicted only (no metrics).

    Example:

        lsctl eval runs/trec-cnn-s1 trec/test.parquet -o preds/cnn-s1.parquet --name cnn --plot rel.png

        lsctl eval runs/trec-cnn-s1 trec/test.parquet --calibrate trec/dev.parquet -o preds/cnn-ts-s1.parquet
    """
    from lsctl.evaluate.run import evaluate_file

    check_json_vs_stdout(as_json, output)
    ev = evaluate_file(
        run,
        data,
        output,
        name=name,
        bins=bins,
        batch_size=batch_size,
        device=device,
        calibrate=calibrate,
        plot=plot,
        progress=progress(quiet, as_json),
    )
    cal = ev.calibrated
    meta = ev.meta if cal is None else cal.meta
    summary = {"name": ev.meta["name"], "seed": ev.meta["seed"], "output": output, **ev.summary}
    if cal is not None:
        summary["calibrated"] = {"name": meta["name"], **cal.summary}
    if as_json:
        emit_json(summary)
    elif not quiet and ev.y is None:
        shown = ", ".join(f"{lab} {n:,}" for lab, n in summary["predicted"].items())
        info(
            f"{summary['name']}: predicted {summary['n']:,} rows without labels ({shown}); no metrics"
        )
    elif not quiet:
        _render(summary)
    report_written(output, plot, quiet=quiet)


def _render(s: dict[str, Any]) -> None:
    from rich.table import Table

    bins = s["bins"]
    cols = (
        "accuracy",
        "macro-F1",
        "NLL",
        "Brier",
        f"ECE ({bins} bins)",
        f"adaptive ECE ({bins} equal-mass bins)",
        f"classwise ECE ({bins} bins)",
    )
    keys = ("accuracy", "macro_f1", "nll", "brier", "ece", "ece_adaptive", "ece_classwise")
    cal = s.get("calibrated")
    head = Table(
        title=f"{s['name']} on {s['n']} instances",
        title_justify="left",
        caption="ECE and classwise ECE: equal-width bins; adaptive ECE: equal-mass bins",
        caption_justify="left",
    )
    if cal is not None:
        head.add_column("predictions", justify="left")
    for col in cols:
        head.add_column(col, justify="right")
    if cal is None:
        head.add_row(*(f"{s[k]:.4f}" for k in keys))
    else:
        head.add_row("before", *(f"{s[k]:.4f}" for k in keys))
        head.add_row(f"after (T={cal['temperature']:.4f})", *(f"{cal[k]:.4f}" for k in keys))
    print_table(head)
    if cal is not None:
        info(
            f"temperature T={cal['temperature']:.4f} fitted on {cal['dev_n']} dev examples "
            f"({cal['dev']['path']}): dev NLL {cal['dev_nll_before']:.4f} -> "
            f"{cal['dev_nll_after']:.4f}; calibrated system {cal['name']!r}"
        )
    conv = s.get("convergence")
    if conv:
        info(
            f"convergence: dev accuracy reached 95% of its best ({conv['best_dev_accuracy']:.4f}) "
            f"at epoch {conv['epochs_to_95']} ({conv['steps_to_95']} steps) and 99% at epoch "
            f"{conv['epochs_to_99']} ({conv['steps_to_99']} steps) of {conv['epochs']}"
        )
    per = Table(title="per class", title_justify="left")
    for col in ("label", "precision", "recall", "F1", "support"):
        per.add_column(col, justify="left" if col == "label" else "right")
    for lab, v in s["per_class"].items():
        per.add_row(
            lab, f"{v['precision']:.4f}", f"{v['recall']:.4f}", f"{v['f1']:.4f}", str(v["support"])
        )
    print_table(per)
