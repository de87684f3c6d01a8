"""`lsctl softlabel`: soft-label targets (uniform, nls, kwls, tfidf, distill)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lsctl.cli.common import (
    JsonOpt,
    LowercaseOpt,
    QuietOpt,
    check_json_vs_stdout,
    console,
    emit_json,
    handle_errors,
    progress,
    warn,
)

if TYPE_CHECKING:
    from lsctl.smoothing.run import SoftlabelResult

TOKENIZER_HELP = "words (lowercase Unicode \\w+) or whitespace (the KWLS authors' text.split(' '))."


@handle_errors
def command(
    data: Annotated[str, typer.Argument(help="Dataset artifact (Parquet/Arrow, '-' for stdin).")],
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="Write DATA + soft_label here ('-' for stdout). Omit to inspect."
        ),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", "-m", help="uniform | nls | kwls | tfidf | distill.")
    ] = "kwls",
    epsilon: Annotated[float, typer.Option(help="uniform: smoothing ε in [0, 1).")] = 0.1,
    convention: Annotated[
        str, typer.Option(help="uniform: k (torch), k-1 (fairseq) or per-class (ε is λ).")
    ] = "k",
    rate: Annotated[
        float | None, typer.Option(help="nls: rate r < 1; negative gives negative smoothing.")
    ] = None,
    k1: Annotated[float | None, typer.Option(help="kwls: k1 > 0 [2.0, or the --keywords']")] = None,
    b: Annotated[
        float | None, typer.Option(help="kwls: b in [0, 1] [0.75, or the --keywords']")
    ] = None,
    k2: Annotated[float | None, typer.Option(help="kwls: k2 > 0 [2.0].")] = None,
    tokenizer: Annotated[str | None, typer.Option(help=TOKENIZER_HELP + " [words]")] = None,
    lowercase: LowercaseOpt = None,
    stopwords: Annotated[
        str | None, typer.Option(help="english, none, or a file with one word per line [none].")
    ] = None,
    min_count: Annotated[
        int, typer.Option(help="kwls/tfidf: drop words seen fewer times overall.")
    ] = 1,
    keywords: Annotated[
        str | None,
        typer.Option(help="kwls/tfidf: apply statistics from `lsctl keywords` (e.g. of TRAIN)."),
    ] = None,
    cross_fit: Annotated[
        int,
        typer.Option(help="kwls/tfidf: out-of-fold statistics over F folds (0: in-sample)."),
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the --cross-fit fold assignment.")] = 0,
    teacher: Annotated[
        str | None, typer.Option(help="distill: teacher predictions from `lsctl eval`.")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(help="distill: softmax temperature T [4].")
    ] = None,
    mix: Annotated[
        float | None,
        typer.Option(
            help="distill: weight α of the teacher, (1−α)·onehot + α·teacher [1]; "
            "the authors' 0.4 with --loss soft is their (1−α)·CE + α·CE(teacher)."
        ),
    ] = None,
    teacher_labels: Annotated[
        str | None,
        typer.Option(
            help="distill: label order A,B,… of the teacher's logits/probs, for a file "
            "without lsctl metadata (another toolkit's, or rewritten by pandas) and no pred column."
        ),
    ] = None,
    show: Annotated[int, typer.Option(help="Print N examples with their soft labels.")] = 0,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Write soft-label targets: DATA's rows plus a soft_label vector per row.

    Example: lsctl softlabel train.parquet --method kwls -o train.soft.parquet --show 3
    """
    from lsctl.artifacts import parse_labels
    from lsctl.smoothing.run import softlabel

    check_json_vs_stdout(as_json, output)
    params = {
        "epsilon": epsilon,
        "convention": convention,
        "rate": rate,
        "k1": k1,
        "b": b,
        "k2": k2,
        "tokenizer": tokenizer,
        "lowercase": lowercase,
        "stopwords": stopwords,
        "min_count": min_count,
        "keywords": keywords,
        "cross_fit": cross_fit,
        "seed": seed,
        "teacher": teacher,
        "temperature": temperature,
        "mix": mix,
        "teacher_labels": parse_labels(teacher_labels, "--teacher-labels"),
    }
    result = softlabel(data, output, method, params, progress=progress(quiet, as_json), show=show)
    for w in result.warnings:
        warn(w)
    if as_json:
        emit_json(
            {
                "output": result.output,
                "method": result.method,
                "labels": result.labels,
                **result.summary,
                "statistics": result.info.get("statistics"),
                "warnings": result.warnings,
                "examples": result.examples,
            }
        )
        return
    if quiet:
        return
    _render(result)


def _render(r: SoftlabelResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    s = r.summary
    table = Table(title=f"soft labels: {r.method}", title_justify="left")
    table.add_column("rows", justify="right")
    table.add_column("mean p(gold)", justify="right")
    table.add_column("argmax = gold", justify="right")
    table.add_column("mean entropy (nats)", justify="right")

    def fmt(v: float | None, pct: bool = False) -> str:
        if v is None:
            return "–"
        return f"{100 * v:.1f}%" if pct else f"{v:.4f}"

    table.add_row(
        str(s["rows"]),
        fmt(s["mean_gold_prob"]),
        fmt(s["argmax_agreement"], pct=True),
        fmt(s["mean_entropy"]),
    )
    console.print(table)
    stats = r.info.get("statistics")
    if stats:
        console.print(f"statistics: {escape(str(stats))}", highlight=False)
    for ex in r.examples:
        text = (ex["text"] or "").replace("\n", " ")
        snippet = text[:80] + ("…" if len(text) > 80 else "")
        console.print(
            f"\n[bold]#{ex['id']}[/bold] gold=[cyan]{escape(str(ex['label']))}[/cyan]  "
            f"{escape(snippet)}",
            highlight=False,
        )
        probs = sorted(ex["soft_label"].items(), key=lambda kv: -kv[1])
        width = max(len(lab) for lab, _ in probs)
        for lab, p in probs[:6]:
            bar = "█" * max(0, round(20 * min(p, 1.0)))
            mark = "*" if lab == ex["label"] else " "
            console.print(
                f"  {mark}{escape(lab):<{width}} {p:7.4f} [green]{bar}[/green]", highlight=False
            )
        if len(probs) > 6:
            console.print(f"   … {len(probs) - 6} more labels", highlight=False)
    if r.output and r.output != "-":
        console.print(f"wrote {escape(r.output)}", highlight=False)
