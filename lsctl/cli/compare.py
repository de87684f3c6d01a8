"""`lsctl compare`: paired significance tests between systems on one test set."""

from __future__ import annotations

from typing import Annotated

import typer

from lsctl.cli.common import (
    JsonOpt,
    QuietOpt,
    check_json_vs_stdout,
    completer,
    emit_json,
    handle_errors,
    parse_pairs,
    print_table,
    progress,
    report_written,
    table_console,
)
from lsctl.errors import LsctlError
from lsctl.stats import MCNEMAR_TESTS


def _metrics() -> list[str]:
    from lsctl.retrieval.rank import METRICS as RANKED
    from lsctl.stats.bootstrap import METRICS

    return [*METRICS, *RANKED]


@handle_errors
def command(
    preds: Annotated[
        list[str],
        typer.Argument(help="Prediction files from `lsctl eval` (one per system and seed)."),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Comparison artifact (.parquet, .arrows or '-'); omit to only print the table.",
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline", help="System name to compare every other system with; default all pairs."
        ),
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option(
            "--metric",
            help="accuracy, macro_f1, nll or ece [accuracy]; for ranked retrieval files "
            "mrr or recall@K, K in 1, 5, 10, 50, 100 [mrr].",
            autocompletion=completer(_metrics),
        ),
    ] = None,
    rounds: Annotated[int, typer.Option("--rounds", help="Bootstrap rounds.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap resampling.")] = 0,
    ci: Annotated[float, typer.Option("--ci", help="Confidence level of the bootstrap CI.")] = 0.95,
    mcnemar: Annotated[
        str,
        typer.Option(
            "--mcnemar",
            help="exact (binomial) or chi2 (continuity-corrected).",
            autocompletion=completer(MCNEMAR_TESTS),
        ),
    ] = "exact",
    alpha: Annotated[
        float, typer.Option("--alpha", help="Significance level for the verdict (Holm-adjusted).")
    ] = 0.05,
    bins: Annotated[int, typer.Option("--bins", help="ECE bins (with --metric ece).")] = 15,
    plot: Annotated[
        str | None, typer.Option("--plot", help="Forest plot of Δ with CIs (.png, .pdf or .svg).")
    ] = None,
    labels: Annotated[
        str | None,
        typer.Option(
            "--labels",
            help="Label order A,B,… of probs in files without lsctl metadata (made by other "
            "tools, or rewritten by pandas) and without a pred column that proves it.",
        ),
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option(
            "--name",
            help="PATTERN=NAME: files matching the glob PATTERN form system NAME, overriding "
            "their metadata's name (files without seeds are numbered 1, 2, … in order). "
            "Repeatable.",
        ),
    ] = None,
    fail_if_worse: Annotated[
        bool,
        typer.Option("--fail-if-worse", help="Exit 3 when a system is significantly worse."),
    ] = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Files with the same `name` (set by `lsctl eval --name`) and different seeds
    form one system. Δ is system − baseline; p_bootstrap is (1 + rounds in
    which the system is not better) / (rounds + 1) (for nll and ece lower is better).

    A file from other code needs columns id, label and probs; its system
    name is its file name unless --name PATTERN=NAME says otherwise.

    Example:

        lsctl compare ce_s*.parquet kwls_s*.parquet --baseline ce -o cmp.parquet --plot cmp.png
    """
    from lsctl.artifacts import parse_labels
    from lsctl.errors import UsageError
    from lsctl.stats.compare import CompareOptions, compare_files
    from lsctl.stats.ranked import is_ranked

    check_json_vs_stdout(as_json, output)
    if list(preds).count("-") > 1:
        raise UsageError("'-' (stdin) is given more than once; a pipe carries one file")
    # The first file that is not stdin tells ranked retrieval files from predictions.
    first = next((p for p in preds if p != "-"), None)
    ranked = first is not None and is_ranked(first)
    if ranked and "-" in preds:
        # Ranked files are read twice (rows, then metadata): a pipe cannot be.
        raise UsageError(
            f"'-': ranked retrieval files ({first}) are compared from paths; "
            "write the piped one to a file first"
        )
    if ranked:
        return _compare_ranked(
            list(preds), output, baseline, metric or "mrr", rounds, seed, ci, mcnemar, alpha,
            plot, name, fail_if_worse, as_json, quiet,
        )  # fmt: skip
    metric = metric or "accuracy"
    opts = CompareOptions(metric, baseline, rounds, seed, ci, mcnemar, alpha, bins)
    test, systems, rows = compare_files(
        list(preds),
        output,
        opts,
        labels=parse_labels(labels),
        names=parse_pairs(name or [], "--name", form="PATTERN=NAME"),
        plot=plot,
        progress=progress(quiet, as_json),
    )
    if as_json:
        emit_json({"metric": metric, "n": len(test.ids), "rounds": rounds, "rows": rows})
    elif not quiet:
        _render(rows, metric, ci, len(test.ids), systems)
    report_written(output, plot, quiet=quiet)
    _fail_if_worse(rows, metric, fail_if_worse)


def _compare_ranked(
    preds: list[str],
    output: str | None,
    baseline: str | None,
    metric: str,
    rounds: int,
    seed: int,
    ci: float,
    mcnemar: str,
    alpha: float,
    plot: str | None,
    name: list[str] | None,
    fail_if_worse: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """compare on ranked retrieval files (`lsctl retrieve bm25|predict`): per-question scores."""
    from lsctl.artifacts import check_output
    from lsctl.stats.compare import CompareOptions, check_names
    from lsctl.stats.ranked import check_metric, compare_ranked, load_ranked, write_comparison

    check_metric(metric)
    opts = CompareOptions(metric, baseline, rounds, seed, ci, mcnemar, alpha)
    names_given = parse_pairs(name or [], "--name", form="PATTERN=NAME")
    check_names(names_given, preds)
    if output is not None:
        check_output(output, preds)
    if plot:
        from lsctl.evaluate.plots import check_plot_path

        check_plot_path(plot)
    test, systems = load_ranked(preds, names_given)
    rows = compare_ranked(test, systems, opts, progress(quiet, as_json))
    where = f"pool {test.pool} ({test.pool_size}), fold {test.fold}"
    if output is not None:
        write_comparison(rows, test, systems, opts, output, preds)
    if plot:
        from lsctl.evaluate.plots import forest_plot

        forest_plot(rows, plot, metric, ci)
    if as_json:
        emit_json(
            {"metric": metric, "n": len(test.ids), "rounds": rounds, "pool": test.pool,
             "fold": test.fold, "pool_size": test.pool_size, "rows": rows}
        )  # fmt: skip
    elif not quiet:
        _render(rows, f"{metric} ({where})", ci, len(test.ids), systems, unit="questions")
    report_written(output, plot, quiet=quiet)
    _fail_if_worse(rows, metric, fail_if_worse)


def _fail_if_worse(rows: list[dict], metric: str, fail_if_worse: bool) -> None:
    worse = [r for r in rows if r["verdict"] == "worse"]
    if fail_if_worse and worse:
        r = worse[0]
        raise LsctlError(
            f"{r['system']} is significantly worse than {r['baseline']} on {metric} "
            f"(Δ={r['delta']:+.4f}, adjusted p={r['p_adjusted']:.3g})",
            exit_code=3,
        )


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "—"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


def _render(
    rows: list[dict], metric: str, ci: float, n: int, systems: list, unit: str = "test instances"
) -> None:
    from rich import box
    from rich.table import Table

    seeds = ", ".join(f"{s.name}×{len(s.seeds)}" for s in systems)
    table = Table(
        title=f"{metric} on {n} {unit} (seeds: {seeds}); {ci:.0%} CI of Δ",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    cols = (
        "system",
        "vs",
        "mean",
        "base",
        "Δ",
        "CI",
        "boot",
        "t",
        "wilc",
        "mcn",
        "holm",
        "verdict",
    )
    for col in cols:
        table.add_column(col, justify="left" if col in ("system", "vs", "verdict") else "right")
    style = {"better": "green", "worse": "red"}
    for r in rows:
        v = r["verdict"]
        table.add_row(
            r["system"],
            r["baseline"],
            f"{r['mean']:.4f}",
            f"{r['baseline_mean']:.4f}",
            f"{r['delta']:+.4f}",
            f"{r['ci_low']:+.4f}..{r['ci_high']:+.4f}",
            _fmt_p(r["p_bootstrap"]),
            _fmt_p(r["p_ttest"]),
            _fmt_p(r["p_wilcoxon"]),
            _fmt_p(r["p_mcnemar"]),
            _fmt_p(r["p_adjusted"]),
            f"[{style[v]}]{v}[/]" if v in style else v,
        )
    out = table_console()
    print_table(table, out)
    out.print(
        "p-values: boot = one-sided bootstrap, (1 + rounds not better) / (rounds + 1), t/wilc over seeds, "
        "mcn = McNemar (accuracy and Recall@k only), holm = Holm-adjusted two-sided bootstrap "
        "(decides the verdict).",
        highlight=False,
    )
