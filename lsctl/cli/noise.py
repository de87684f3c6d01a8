"""`lsctl noise`: inject seeded label noise and report what was injected."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from lsctl.cli.common import (
    JsonOpt,
    QuietOpt,
    SeedOpt,
    check_json_vs_stdout,
    cli_message,
    emit_json,
    handle_errors,
    info,
    print_table,
    progress,
    warn,
)
from lsctl.noise.run import CONVENTIONS, KINDS, STOCHASTIC

# The choices come from the core's lists, so --help and completion follow them.
Kind = Enum("Kind", {k: k for k in KINDS}, type=str)  # type: ignore[misc]
Convention = Enum("Convention", {c: c for c in CONVENTIONS}, type=str)  # type: ignore[misc]
Stochastic = Enum("Stochastic", {s: s for s in STOCHASTIC}, type=str)  # type: ignore[misc]


@handle_errors
def command(
    data: Annotated[
        str, typer.Argument(help="Dataset artifact (Parquet/Arrow), or '-' for stdin.")
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Noisy dataset: .parquet, .arrows, or '-'.")
    ],
    kind: Annotated[Kind, typer.Option("--kind", "-k", help="Noise model.")],
    rate: Annotated[
        float | None,
        typer.Option("--rate", "-r", help="Noise rate R in [0, 1) (not used by --kind matrix)."),
    ] = None,
    seed: SeedOpt = 0,
    convention: Annotated[
        Convention | None,
        typer.Option(
            "--convention",
            help="symmetric only: off-diagonal (r/(K−1) to each other class, default) or "
            "uniform (resample over all K, true class included).",
        ),
    ] = None,
    pair: Annotated[
        list[str] | None,
        typer.Option(
            "--pair", help="asymmetric only: SOURCE:TARGET label names; repeat for more pairs."
        ),
    ] = None,
    matrix: Annotated[
        str | None,
        typer.Option(
            "--matrix",
            help="matrix only: K×K CSV (optional header row of labels) or JSON "
            '(list of lists or {"labels": [...], "matrix": [[...]]}).',
        ),
    ] = None,
    stochastic: Annotated[
        Stochastic,
        typer.Option(
            "--stochastic",
            help="matrix only: which sums to 1. rows: T(clean, noisy) (ours); "
            "columns: cleanlab's noise_matrix(noisy, clean).",
        ),
    ] = Stochastic("rows"),
    temperature: Annotated[
        float | None,
        typer.Option(
            "--temperature",
            help="instance only: τ in p_i = σ(a + s_i/τ); smaller concentrates noise on "
            "the most confusable texts (default 0.2).",
        ),
    ] = None,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact",
            help="Flip exactly round(n_c·(1−T(c, c))) labels per class (instance: round(R·N) "
            "overall) instead of flipping each label independently.",
        ),
    ] = False,
    stack: Annotated[
        bool,
        typer.Option(
            "--stack",
            help="Allow data that is already noisy: add noise to its current labels and "
            "keep its original clean_label.",
        ),
    ] = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """T(i, j) = P(noisy = j | clean = i). Kinds:

    \b
    symmetric   1−R kept, R/(K−1) to each other class (--convention off-diagonal),
                or R resampled over all K classes (--convention uniform).
    pairflip    class i → class i+1 (mod K) in label order with rate R.
    asymmetric  each --pair A:B flips A → B with rate R (a source in several
                pairs splits R evenly).
    matrix      a given T from --matrix FILE (--stochastic rows|columns).
    instance    confusable texts flip more often, to their most relevant other
                class: with KWLS keyword relevance S (N×K), target
                t_i = argmax_{j≠y_i} S_ij, margin m_i = S_i,t_i − S_i,y_i,
                s_i = mid-rank(m_i)/N, p_i = σ(a + s_i/τ), a bisected so
                mean(p) = R. Each text flips to t_i with probability p_i
                (--exact: exactly round(R·N) texts, weighted by p_i).

    The output keeps every column; `label` becomes the noisy label and
    `clean_label` and `is_noisy` are added. Metadata records the options, the
    intended and realized T and the realized noise rate.

    \b
    Examples:
      lsctl noise train.parquet -o noisy.parquet --kind symmetric --rate 0.4 --seed 1
      lsctl noise train.parquet -o - --kind pairflip -r 0.2 | lsctl data info -
      lsctl noise train.parquet -o n.parquet --kind matrix --matrix T.csv --stochastic columns
    """
    from lsctl.noise.run import noise

    check_json_vs_stdout(as_json, output)
    run = noise(
        data,
        output,
        kind=kind.value,
        rate=rate,
        seed=seed,
        convention=convention.value if convention is not None else None,
        pairs=pair,
        matrix=matrix,
        stochastic=stochastic.value,
        temperature=temperature,
        exact=exact,
        stack=stack,
        progress=progress(quiet, as_json),
    )
    for w in run.warnings:
        warn(cli_message(w))
    if as_json:
        emit_json({"output": output, "labels": run.labels, **run.noise_meta})
    elif not quiet:
        _report(run.labels, run.result, run.noise_rate_vs_clean if run.stacked else None)


def _report(labels, result, vs_clean: float | None) -> None:
    from rich.table import Table

    k = len(labels)
    if k <= 6:
        tab = Table(
            title="T(clean → noisy): intended/realized",
            caption="rows: clean label, columns: noisy label",
        )
        tab.add_column("clean \\ noisy", style="bold")
        tab.add_column("n", justify="right")
        for lab in labels:
            tab.add_column(lab, justify="right")
        for i, lab in enumerate(labels):
            cells = []
            for j in range(k):
                cell = f"{result.intended[i, j]:.3f}/{result.realized[i, j]:.3f}"
                cells.append(f"[bold]{cell}[/bold]" if i != j and result.counts[i, j] else cell)
            tab.add_row(lab, f"{result.class_counts[i]:,}", *cells)
    else:
        tab = Table(title="per class: intended / realized flip rate (K too large for the full T)")
        for col in ("clean", "n", "intended", "realized", "top noisy target"):
            tab.add_column(col, justify="left" if col in ("clean", "top noisy target") else "right")
        for i, lab in enumerate(labels):
            off = result.counts[i].copy()
            off[i] = 0
            top = f"{labels[int(off.argmax())]} ({off.max():,})" if off.any() else "-"
            tab.add_row(
                lab,
                f"{result.class_counts[i]:,}",
                f"{1 - result.intended[i, i]:.3f}",
                f"{1 - result.realized[i, i]:.3f}",
                top,
            )
    print_table(tab)
    n = int(result.class_counts.sum())
    flipped = int(n - result.counts.trace())
    info(
        f"realized noise rate {result.realized_rate:.4f} (intended {result.intended_rate:.4f}): "
        f"{flipped:,} of {n:,} labels changed"
    )
    if vs_clean is not None:
        info(f"stacked: {vs_clean:.4f} of labels now differ from the original clean_label")
