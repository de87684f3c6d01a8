"""`lsctl rank`: rank systems across datasets (Friedman, Nemenyi, Holm–Wilcoxon, CD diagram)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lsctl.cli.common import (
    JsonOpt,
    QuietOpt,
    emit_json,
    handle_errors,
    parse_pairs,
    print_table,
    report_written,
    table_console,
)


@handle_errors
def command(
    preds: Annotated[
        list[str],
        typer.Argument(help="Prediction files from `lsctl eval`: every system × seed × dataset."),
    ],
    metric: Annotated[
        str, typer.Option("--metric", help="accuracy, macro_f1, nll or ece.")
    ] = "accuracy",
    bins: Annotated[int, typer.Option("--bins", help="ECE bins (with --metric ece).")] = 15,
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset",
            help="PATTERN=NAME: files matching the glob PATTERN are on dataset NAME, instead "
            "of grouping by the data hash in their metadata. Repeatable.",
        ),
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option(
            "--name",
            help="PATTERN=NAME: files matching the glob PATTERN form system NAME, overriding "
            "their metadata's name (as in compare). Repeatable.",
        ),
    ] = None,
    control: Annotated[
        str | None,
        typer.Option(
            "--control", help="System to test every other against (Wilcoxon); default all pairs."
        ),
    ] = None,
    alpha: Annotated[
        float,
        typer.Option("--alpha", help="0.05 or 0.10: Nemenyi CD level and Holm–Wilcoxon level."),
    ] = 0.05,
    plot: Annotated[
        str | None,
        typer.Option("--plot", help="Critical-difference diagram (.png, .pdf or .svg)."),
    ] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Files are grouped into datasets by the hash of the test data `lsctl eval`
    recorded (or by --dataset PATTERN=NAME), and into systems by name as in
    `compare`; a system's seeds are averaged per dataset. Each dataset ranks
    the systems (1 = best, ties share the mean rank); the Friedman test (with
    the Iman–Davenport F) asks whether the average ranks differ at all, the
    Nemenyi critical difference says which pairs do, and Wilcoxon signed-rank
    over datasets (Holm-adjusted) tests pairs on the scores themselves
    (Demšar 2006).

    Example:

        lsctl rank preds/*/*.parquet --metric macro_f1 --control kwls --plot cd.png
    """
    from lsctl.errors import UsageError
    from lsctl.stats.bootstrap import LOWER_IS_BETTER, METRICS
    from lsctl.stats.rank import MAX_SYSTEMS, Q_ALPHA

    if metric not in METRICS:
        raise UsageError(f"--metric {metric!r}: use one of {', '.join(METRICS)}")
    if bins < 1:
        raise UsageError("--bins must be at least 1")
    if not any(abs(alpha - a) < 1e-12 for a in Q_ALPHA):
        raise UsageError(f"--alpha {alpha}: use 0.05 or 0.10 (Demšar's Nemenyi table)")
    datasets_given = parse_pairs(dataset or [], "--dataset")
    names_given = parse_pairs(name or [], "--name")
    if plot:
        from lsctl.evaluate.plots import check_plot_path

        check_plot_path(plot)

    from lsctl.errors import LsctlError
    from lsctl.stats.across import load_across, score_matrix
    from lsctl.stats.rank import rank

    groups = load_across(list(preds), datasets_given, names_given)
    scores, systems, datasets, seeds = score_matrix(groups, metric, bins)
    if len(systems) > MAX_SYSTEMS:
        raise LsctlError(
            f"{len(systems)} systems; the Nemenyi table covers at most {MAX_SYSTEMS}: rank "
            "fewer systems at a time"
        )
    if control is not None and control not in systems:
        raise UsageError(f"--control {control!r} is not a system here (systems: {systems})")
    result = rank(scores, systems, datasets, metric in LOWER_IS_BETTER, alpha, control)
    if plot:
        from lsctl.evaluate.cd_diagram import cd_diagram

        cd_diagram(
            result.average_ranks,
            systems,
            result.cd,
            result.groups,
            plot,
            f"average rank by {metric} over {len(datasets)} datasets; Nemenyi α={alpha:g}",
        )
    doc = {"metric": metric, **result.to_dict(), "seeds": seeds}
    if doc["friedman"]["f"] == float("inf"):
        doc["friedman"]["f"] = None  # every dataset ranks alike: JSON has no infinity
    if as_json:
        emit_json(doc)
    elif not quiet:
        _render(doc)
    report_written(plot, quiet=quiet)


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "—"
    if p == 0:
        return "0"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


def _render(doc: dict[str, Any]) -> None:
    from rich import box
    from rich.table import Table

    out = table_console()
    systems, metric = doc["systems"], doc["metric"]
    better = "lower" if doc["lower_is_better"] else "higher"
    scores = Table(
        title=f"{metric} per dataset (mean over seeds; {better} is better), rank in brackets",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    scores.add_column("dataset")
    for s in systems:
        scores.add_column(s, justify="right")
    for d, row, ranks, n in zip(
        doc["datasets"], doc["scores"], doc["ranks"], doc["seeds"], strict=True
    ):
        scores.add_row(d, *(f"{v:.4f} ({r:g}) ×{k}" for v, r, k in zip(row, ranks, n, strict=True)))
    scores.add_row("average rank", *(f"{r:.3f}" for r in doc["average_ranks"]), style="bold")
    print_table(scores, out)
    f = doc["friedman"]
    # F is infinite when every dataset ranks the systems alike (χ² at its maximum).
    f_text = "∞ (every dataset ranks alike)" if f["f"] is None else f"{f['f']:.3f}"
    out.print(
        f"Friedman χ²={f['chi2']:.3f} (df {f['df1']}), p={_fmt_p(f['p_chi2'])}; "
        f"Iman–Davenport F={f_text} (df {f['df1']}, {f['df2']}), p={_fmt_p(f['p_f'])}",
        highlight=False,
    )
    if f["p_f"] >= doc["alpha"]:
        out.print(
            f"The Friedman test finds no difference at α={doc['alpha']:g}: the post-hoc tests "
            "below are not warranted (Demšar 2006).",
            highlight=False,
        )
    groups = "; ".join(", ".join(g) for g in doc["groups"]) or "none"
    out.print(
        f"Nemenyi CD={doc['cd']:.3f} (q={doc['q_alpha']}, α={doc['alpha']:g}); "
        f"not significantly different: {groups}",
        highlight=False,
    )
    pairs = Table(
        title="Wilcoxon signed-rank over datasets, Holm-adjusted",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for col in ("system", "vs", "Δ mean", "W/T/L", "p", "holm", "verdict"):
        pairs.add_column(col, justify="left" if col in ("system", "vs", "verdict") else "right")
    style = {"better": "green", "worse": "red"}
    for r in doc["wilcoxon"]:
        v = r["verdict"]
        pairs.add_row(
            r["system"],
            r["vs"],
            f"{r['delta']:+.4f}",
            f"{r['wins']}/{r['ties']}/{r['losses']}",
            _fmt_p(r["p"]),
            _fmt_p(r["p_holm"]),
            f"[{style[v]}]{v}[/]" if v in style else v,
        )
    print_table(pairs, out)
