"""One core call per `lsctl retrieve` command: read, rank, build the artifact and summary."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from lsctl.artifacts import write_artifact
from lsctl.progress import Progress
from lsctl.retrieval.bm25 import BM25
from lsctl.retrieval.data import load_corpus
from lsctl.retrieval.rank import metrics, rank_corpus, ranked_meta
from lsctl.validation import check_not_blank


def bm25_rank(
    questions: str,
    sentences: str,
    *,
    pool: str = "all",
    fold: str = "test",
    top_k: int = 100,
    k1: float = 1.2,
    b: float = 0.75,
    name: str = "bm25",
    output: str | None = None,
    progress: Progress | None = None,
) -> tuple[pa.Table, dict[str, Any], dict[str, Any]]:
    """BM25 over the pool for the questions of ``fold``: (ranked table, metadata, summary).

    With ``output``, the ranked artifact is also written there.
    """
    check_not_blank("name", name)
    corpus = load_corpus(questions, sentences, fold, pool)
    index = BM25(corpus.pool_texts, k1=k1, b=b)
    qm = index.query_matrix(corpus.question_texts)

    def block(rows: Any) -> Any:
        return (qm[rows] @ index.doc_weights).toarray()

    ranked = rank_corpus(corpus, block, top_k, progress)
    params = {
        "method": "bm25",
        "k1": k1,
        "b": b,
        "pool": pool,
        "fold": fold,
        "top_k": top_k,
        "tokenizer": index.spec.to_dict(),
    }
    meta = ranked_meta(corpus, name, None, params)
    summary = {
        "name": name,
        "seed": None,
        "fold": fold,
        "pool": pool,
        "pool_size": corpus.pool.num_rows,
        "n": corpus.questions.num_rows,
        **metrics(ranked.ranks),
    }
    if output is not None:
        write_artifact(ranked.table, output, meta, [questions, sentences])
    return ranked.table, meta, summary
