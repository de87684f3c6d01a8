"""`lsctl keywords`: word×label statistics (WLC, WLW, WLR) and top keywords per label."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lsctl.cli.common import (
    JsonOpt,
    LowercaseOpt,
    QuietOpt,
    check_json_vs_stdout,
    completer,
    console,
    emit_json,
    handle_errors,
    progress,
    warn,
)
from lsctl.smoothing.relevance import K1, K_MAX, B
from lsctl.text.tokenize import TOKENIZERS

if TYPE_CHECKING:
    import pyarrow as pa


@handle_errors
def command(
    data: Annotated[str, typer.Argument(help="Labelled dataset artifact ('-' for stdin).")],
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write the keywords table here ('-' for stdout)."),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            min=0, help="Show the top K keywords per label on stderr [10 without -o, else 0]."
        ),
    ] = None,
    k1: Annotated[float, typer.Option(help=f"BM25-style saturation k1 in (0, {K_MAX:g}].")] = K1,
    b: Annotated[float, typer.Option(help="Class-length normalization b in [0, 1].")] = B,
    tokenizer: Annotated[
        str,
        typer.Option(
            help="words (lowercase Unicode \\w+) or whitespace (text.split(' ')).",
            metavar="|".join(TOKENIZERS),
            autocompletion=completer(TOKENIZERS),
        ),
    ] = "words",
    lowercase: LowercaseOpt = None,
    stopwords: Annotated[
        str, typer.Option(help="english, none, or a file with one word per line.")
    ] = "none",
    min_count: Annotated[int, typer.Option(help="Drop words seen fewer times overall.")] = 1,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The table (word, label, count, wlc, wlw, wlr, rank, df) and its metadata
    hold everything `lsctl softlabel --keywords KW` needs to apply these
    statistics to other data.

    Example: lsctl keywords train.parquet -o train.kw.parquet --top 10
    """
    from lsctl.smoothing.run import keywords_file
    from lsctl.text.tokenize import TokenizerSpec

    check_json_vs_stdout(as_json, output)
    spec = TokenizerSpec(tokenizer, lowercase, stopwords)
    result = keywords_file(data, output, spec, k1, b, min_count, progress(quiet, as_json))
    if top is None:
        top = 0 if output is not None else 10
    tops = _top(result.table, result.labels, top) if top else {}
    if result.table.num_rows == 0:
        warn(
            f"no word occurs --min-count {min_count} times; the keywords table is empty "
            "(softlabel --keywords would give every row uniform targets)"
        )
    if as_json:
        emit_json(
            {
                "output": output,
                "rows": result.table.num_rows,
                "labels": result.labels,
                "vocab_size": result.vocab_size,
                "words_seen": result.words_seen,
                **result.stats,
                "k1": k1,
                "b": b,
                "tokenizer": spec.to_dict(),
                "top": tops,
            }
        )
        return
    if quiet:
        return
    if tops:
        _render(tops, result.labels)
    console.print(
        f"{result.stats['n_docs']} documents, {result.vocab_size} words"
        + (
            f" (of {result.words_seen} seen; --min-count {min_count})"
            if result.words_seen != result.vocab_size
            else ""
        )
        + ", "
        f"X_avg {result.stats['x_avg']:.2f} tokens"
        + (f"; wrote {output}" if output and output != "-" else ""),
        highlight=False,
        markup=False,
    )


def _top(table: pa.Table, labels: list[str], k: int) -> dict[str, list[dict[str, object]]]:
    import pyarrow.compute as pc

    t = table.filter(pc.less_equal(table.column("rank"), k))
    rows = t.select(["word", "label", "wlr", "count"]).to_pylist()
    out: dict[str, list[dict[str, object]]] = {lab: [] for lab in labels}
    for r in rows:
        out[r["label"]].append({"word": r["word"], "wlr": r["wlr"], "count": r["count"]})
    return out


def _render(tops: dict[str, list[dict[str, object]]], labels: list[str]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="top keywords by WLR", title_justify="left")
    table.add_column("label")
    table.add_column("keywords (WLR)")
    for lab in labels:
        words = ", ".join(
            f"{escape(str(it['word']))} [dim]{it['wlr']:.2f}[/dim]" for it in tops.get(lab, [])
        )
        table.add_row(escape(lab), words)
    console.print(table)
