"""`lsctl retrieve`: answer retrieval (ReQA): BM25, dual encoders, Recall@k and MRR."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lsctl.cli.common import (
    JsonOpt,
    QuietOpt,
    SeedOpt,
    check_json_vs_stdout,
    completer,
    emit_json,
    handle_errors,
    info,
    print_table,
    progress,
)
from lsctl.retrieval.data import POOLS
from lsctl.train.config import DEVICES

app = typer.Typer(
    help="Pools: 'all' ranks every sentence (ReQA's protocol), 'fold' only the sentences of the "
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
        "--pool",
        help="all: every sentence (ReQA); fold: the sentences of --fold only (leak-free).",
        autocompletion=completer(POOLS),
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
    return default if name is None else name


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
    from lsctl.artifacts import check_output
    from lsctl.retrieval.bm25 import check_params
    from lsctl.retrieval.data import check_pool

    check_json_vs_stdout(as_json, output)
    check_pool(pool, fold)
    check_params(k1, b)
    if top_k < 1:
        from lsctl.errors import UsageError

        raise UsageError(f"--top-k {top_k}: must be at least 1")
    check_output(output, [questions, sentences])

    from lsctl.retrieval.api import bm25_rank

    _, _, summary = bm25_rank(
        questions,
        sentences,
        pool=pool,
        fold=fold,
        top_k=top_k,
        k1=k1,
        b=b,
        name=_name(name, "bm25"),
        output=output,
        progress=progress(quiet, as_json),
    )
    summary["output"] = output
    if as_json:
        emit_json(summary)
    elif not quiet:
        render([summary])
        if output != "-":
            info(f"wrote {output}")


@app.command("train")
@handle_errors
def train(
    questions: QuestionsOpt,
    sentences: SentencesOpt,
    output: Annotated[
        str, typer.Option("--output", "-o", help="Run directory to create (must not hold a run).")
    ],
    encoder: Annotated[
        str,
        typer.Option(
            "--encoder",
            help="Tower encoder: fasttext, textcnn, lstm, or hf:PATH_OR_NAME (mean-pooled "
            "transformers encoder; hf:minilm = MiniLM-L6).",
        ),
    ] = "fasttext",
    separate_towers: Annotated[
        bool,
        typer.Option("--separate-towers", help="Separate question and sentence towers [shared]."),
    ] = False,
    score: Annotated[
        str, typer.Option("--score", help="cos (cosine of the two vectors) or dot (q·s).")
    ] = "cos",
    temperature: Annotated[
        float | None,
        typer.Option("--temperature", help="Scores are divided by it [1 for dot, 0.05 for cos]."),
    ] = None,
    hard_negatives: Annotated[
        int,
        typer.Option(
            "--hard-negatives",
            help="Per question, add N sentences sampled from BM25's top 20 (training fold).",
        ),
    ] = 0,
    targets: Annotated[
        str,
        typer.Option(
            "--targets",
            help="Soft targets over the batch's candidates: none (O), uniform (C), tfidf (T), "
            "kwls (K) or distill (D, with --teacher).",
        ),
    ] = "none",
    label_smoothing: Annotated[
        float, typer.Option("--label-smoothing", help="ε of --targets uniform.")
    ] = 0.1,
    teacher: Annotated[
        str | None,
        typer.Option(
            "--teacher", help="A `retrieve train` run whose scores --targets distill uses."
        ),
    ] = None,
    loss: Annotated[
        str | None,
        typer.Option(
            "--loss", help="ce, soft or aux [ce for none, soft for uniform, aux otherwise]."
        ),
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Weight α of the aux loss.")] = 1.0,
    epochs: Annotated[int, typer.Option("--epochs", help="Epochs; the best dev MRR is kept.")] = 5,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Questions per batch (the in-batch negatives).")
    ] = 64,
    lr: Annotated[
        float | None,
        typer.Option("--lr", help="Adam learning rate [1e-2 fasttext, 2e-5 hf:, 1e-3 otherwise]."),
    ] = None,
    embed_dim: Annotated[int, typer.Option("--embed-dim", help="Word vector size.")] = 128,
    hidden: Annotated[int, typer.Option("--hidden", help="lstm: hidden size per direction.")] = 128,
    seed: SeedOpt = 0,
    device: Annotated[
        str,
        typer.Option("--device", help="auto, cpu or cuda.", autocompletion=completer(DEVICES)),
    ] = "auto",
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train a dual encoder on the 'train' fold; keep the epoch with the best 'dev' MRR.

    Candidates of a batch are its questions' gold sentences (each text once) plus
    --hard-negatives; the targets over them enter lsctl's soft and aux losses.
    The dev MRR ranks the dev fold's own sentences. docs/retrieval.md has the equations.

    Example:

        lsctl retrieve train --questions Q.parquet --sentences S.parquet -o runs/k-s1 --targets kwls --seed 1
    """
    from lsctl.retrieval.dual_config import DualConfig

    check_json_vs_stdout(as_json, None)
    cfg = DualConfig.from_options(locals())
    cfg.validate()
    import lsctl.train  # noqa: F401  (sets lsctl's OpenMP default before torch loads)
    from lsctl.retrieval.dual import train as run_training

    notify = (lambda m: None) if (quiet or as_json) else info
    summary = run_training(cfg, progress(quiet, as_json), notify)
    if as_json:
        emit_json(summary)
    elif not quiet:
        info(
            f"selected epoch {summary['selected_epoch']}: dev MRR {summary['dev_mrr']:.4f} "
            f"(dev fold's own pool of {summary['dev_pool']}); wrote {output}"
        )


@app.command("predict")
@handle_errors
def predict(
    run: Annotated[str, typer.Argument(help="Run directory of `lsctl retrieve train`.")],
    questions: QuestionsOpt,
    sentences: SentencesOpt,
    output: OutputOpt,
    pool: PoolOpt = "all",
    fold: FoldOpt = "test",
    top_k: TopKOpt = 100,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="System name [the run folder's name without its seed marker: runs/k-s2 → k].",
        ),
    ] = None,
    device: Annotated[
        str,
        typer.Option("--device", help="auto, cpu or cuda.", autocompletion=completer(DEVICES)),
    ] = "auto",
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Rank the pool for the questions of --fold with a trained dual encoder.

    Example:

        lsctl retrieve predict runs/k-s1 --questions Q.parquet --sentences S.parquet --pool all -o k-s1.parquet --name kwls
    """
    from lsctl.artifacts import check_output
    from lsctl.retrieval.data import check_pool

    check_json_vs_stdout(as_json, output)
    check_pool(pool, fold)
    from lsctl.errors import UsageError

    if top_k < 1:
        raise UsageError(f"--top-k {top_k}: must be at least 1")
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise UsageError(f"--device {device!r}: choose auto, cpu or cuda")
    check_output(output, [questions, sentences])
    import lsctl.train  # noqa: F401
    from lsctl.retrieval.dual import predict as run_predict

    _, _, summary = run_predict(
        run, questions, sentences, fold=fold, pool=pool, top_k=top_k, name=name,
        output=output, device=device, progress=progress(quiet, as_json),
    )  # fmt: skip
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

        lsctl retrieve eval bm25.parquet k-s1.parquet --json
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
