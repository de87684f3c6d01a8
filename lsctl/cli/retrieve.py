"""`lsctl retrieve`: answer retrieval (ReQA): BM25, dual encoders, Recall@k and MRR."""

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

app = typer.Typer(
    help="Answer retrieval (ReQA): questions rank a pool of sentences.\n\n"
    "Pools: 'all' ranks every sentence (ReQA's protocol), 'fold' only the sentences of the "
    "questions' fold (leak-free). Identical sentence texts count as the gold.\n\n"
    "\b\n"
    "Examples:\n"
    "  lsctl retrieve bm25 --questions Q.parquet --sentences S.parquet --fold test -o bm25.parquet\n"
    "  lsctl retrieve eval bm25.parquet",
    no_args_is_help=True,
)

QuestionsOpt = Annotated[
    str,
    typer.Option(
        "--questions", help="Questions: qid, question, sentence_id (the gold), fold (optional)."
    ),
]
SentencesOpt = Annotated[
    str,
    typer.Option(
        "--sentences", help="Candidate sentences: sentence_id, sentence, fold (optional)."
    ),
]
PoolOpt = Annotated[
    str,
    typer.Option(
        "--pool", help="all: every sentence (ReQA); fold: the sentences of --fold only (leak-free)."
    ),
]
FoldOpt = Annotated[
    str, typer.Option("--fold", help="The questions' fold to rank (e.g. test), or 'all'.")
]
TopKOpt = Annotated[
    int, typer.Option("--top-k", help="Candidate ids (and scores) kept per question.")
]
OutputOpt = Annotated[
    str, typer.Option("--output", "-o", help="Ranked artifact (.parquet, .arrows or '-').")
]


def _name(name: str | None, default: str) -> str:
    return name if name else default


@app.command("bm25")
@handle_errors
def bm25(
    questions: QuestionsOpt,
    sentences: SentencesOpt,
    output: OutputOpt,
    pool: PoolOpt = "all",
    fold: FoldOpt = "test",
    top_k: TopKOpt = 100,
    k1: Annotated[float, typer.Option("--k1", help="BM25 term-frequency saturation.")] = 1.2,
    b: Annotated[float, typer.Option("--b", help="BM25 length normalisation in [0, 1].")] = 0.75,
    name: Annotated[str | None, typer.Option("--name", help="System name [bm25].")] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Rank the pool for each question with BM25 (no training); write the ranked artifact.

    Robertson/Lucene idf ln(1 + (N - df + 0.5)/(df + 0.5)) over the pool, k1 and b
    as given, the words tokenizer (lowercased \\w+), each question word once.

    Example:

        lsctl retrieve bm25 --questions reqa/questions.parquet --sentences reqa/sentences.parquet --fold all -o bm25.parquet
    """
    from lsctl.artifacts import check_output, write_artifact
    from lsctl.retrieval.bm25 import check_params
    from lsctl.retrieval.data import check_pool

    check_json_vs_stdout(as_json, output)
    check_pool(pool)
    check_params(k1, b)
    if top_k < 1:
        from lsctl.errors import UsageError

        raise UsageError(f"--top-k {top_k}: must be at least 1")
    check_output(output, [questions, sentences])

    from lsctl.retrieval.api import bm25_rank

    table, meta, summary = bm25_rank(
        questions,
        sentences,
        pool=pool,
        fold=fold,
        top_k=top_k,
        k1=k1,
        b=b,
        name=_name(name, "bm25"),
        progress=progress(quiet, as_json),
    )
    write_artifact(table, output, meta, [questions, sentences])
    summary["output"] = output
    if as_json:
        emit_json(summary)
    elif not quiet:
        render([summary])
        if output != "-":
            info(f"wrote {output}")


@app.command("eval")
@handle_errors
def eval_(
    ranked: Annotated[
        list[str], typer.Argument(help="Ranked artifacts from `lsctl retrieve bm25` or `predict`.")
    ],
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Recall@1, 5, 10, 50, 100 and MRR of ranked artifacts, with the pool each one ranked.

    Example:

        lsctl retrieve eval bm25.parquet runs/k-s1/test.parquet --json
    """
    from lsctl.retrieval.rank import evaluate_files

    rows = evaluate_files(ranked)
    if as_json:
        emit_json(rows if len(rows) > 1 else rows[0])
    elif not quiet:
        render(rows)


def render(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from lsctl.retrieval.rank import METRICS

    t = Table(title="retrieval (shares; pool: all = every sentence, fold = the fold's own)")
    for col in ("name", "seed", "fold", "pool", "questions", *METRICS):
        t.add_column(col, justify="left" if col in ("name", "fold", "pool") else "right")
    for r in rows:
        seed = "" if r.get("seed") is None else str(r["seed"])
        pool = f"{r['pool']} ({r['pool_size']})" if r.get("pool_size") else str(r["pool"])
        t.add_row(
            str(r["name"]),
            seed,
            str(r["fold"]),
            pool,
            str(r["n"]),
            *(f"{r[m]:.4f}" for m in METRICS),
        )
    print_table(t)
