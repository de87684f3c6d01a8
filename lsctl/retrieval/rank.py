"""Scores → gold ranks and top-k lists; the ranked artifact; Recall@k and MRR.

Ranking is by score, descending; ties go to the candidate earlier in the pool
(a stable sort), so a constant scorer does not rank every gold first. A
question's gold rank is the 1-based position of its first gold-set member in
that order, over the whole pool (not only the top-k that the artifact keeps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from lsctl.artifacts import make_meta, read_artifact, require_columns
from lsctl.artifacts.columns import as_numpy
from lsctl.errors import LsctlError, UsageError
from lsctl.progress import Progress, ensure
from lsctl.retrieval.data import Corpus

KS = (1, 5, 10, 50, 100)
METRICS = ("mrr", *(f"recall@{k}" for k in KS))
RANKED_COLUMNS = ("qid", "gold_id", "rank", "top_ids", "top_scores")
BLOCK = 512  # questions per score block: 512 × 10k float64 is 40 MB


def gold_ranks(scores: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """1-based rank of the first gold candidate per row (ties: earlier index first).

    ``scores`` and ``gold`` (bool) are questions × pool; every row needs a gold.
    """
    if not np.isfinite(scores).all():
        raise LsctlError("scores contain NaN or infinite values; the model diverged")
    if not gold.any(axis=1).all():
        raise ValueError("a question without a gold candidate in the pool")
    best = np.where(gold, scores, -np.inf).max(axis=1, keepdims=True)
    first = np.argmax(gold & (scores == best), axis=1)[:, None]
    idx = np.arange(scores.shape[1])[None, :]
    above = (scores > best).sum(axis=1)
    tied_before = ((scores == best) & (idx < first)).sum(axis=1)
    return (1 + above + tied_before).astype(np.int64)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best candidates per row, best first (ties: earlier index first)."""
    k = min(k, scores.shape[1])
    if k < scores.shape[1]:
        # Everything at or above the k-th largest value, then a stable sort of that
        # subset by (score desc, index asc): the same as a full stable sort's head.
        kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]
        out = np.empty((scores.shape[0], k), dtype=np.int64)
        for i in range(scores.shape[0]):
            cand = np.flatnonzero(scores[i] >= kth[i])
            out[i] = cand[np.argsort(-scores[i, cand], kind="stable")[:k]]
        return out
    return np.argsort(-scores, axis=1, kind="stable")


@dataclass
class Ranked:
    table: pa.Table
    ranks: np.ndarray


def rank_corpus(
    corpus: Corpus,
    score_block: Callable[[np.ndarray], np.ndarray],
    k: int,
    progress: Progress | None = None,
) -> Ranked:
    """Score the questions block by block; keep gold ranks and the top-k ids and scores."""
    if k < 1:
        raise UsageError(f"--top-k {k}: must be at least 1")
    n = corpus.questions.num_rows
    ranks = np.empty(n, dtype=np.int64)
    tops: list[np.ndarray] = []
    top_scores: list[np.ndarray] = []
    with ensure(progress).task("ranking", total=n) as task:
        for start in range(0, n, BLOCK):
            rows = np.arange(start, min(n, start + BLOCK))
            s = np.asarray(score_block(rows), dtype=np.float64)
            ranks[rows] = gold_ranks(s, corpus.gold_mask(rows))
            t = top_k(s, k)
            tops.append(t)
            top_scores.append(np.take_along_axis(s, t, axis=1))
            task.advance(len(rows))
    kk = min(k, corpus.pool.num_rows)
    top = np.concatenate(tops) if tops else np.zeros((0, kk), np.int64)
    top_s = np.concatenate(top_scores) if top_scores else np.zeros((0, kk))
    ids = corpus.pool.column("sentence_id").combine_chunks()
    flat_ids = ids.take(pa.array(top.reshape(-1)))
    offsets = pa.array(np.arange(0, n * kk + 1, kk, dtype=np.int32))
    table = pa.table(
        {
            "qid": corpus.questions.column("qid"),
            "gold_id": corpus.questions.column("sentence_id"),
            "rank": pa.array(ranks),
            "top_ids": pa.ListArray.from_arrays(offsets, flat_ids),
            "top_scores": pa.ListArray.from_arrays(
                offsets, pa.array(top_s.reshape(-1).astype(np.float32))
            ),
        }
    )
    return Ranked(table, ranks)


def ranked_meta(
    corpus: Corpus, name: str, seed: int | None, params: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """The ``ranked`` metadata: pool and fold are recorded, so every table can state them."""
    inputs = [r.input_record() for r in corpus.readers]
    return make_meta(
        "ranked",
        None,
        params,
        inputs,
        name=name,
        seed=seed,
        pool=corpus.pool_name,
        fold=corpus.fold,
        pool_size=corpus.pool.num_rows,
        n_questions=corpus.questions.num_rows,
        **extra,
    )


# ---------------------------------------------------------------------------
# Metrics


def per_question(ranks: np.ndarray, metric: str) -> np.ndarray:
    """Each question's score on ``metric``: 1/rank for MRR, rank ≤ k for recall@k."""
    ranks = np.asarray(ranks, dtype=np.float64)
    if metric == "mrr":
        return 1.0 / ranks
    if metric.startswith("recall@"):
        return (ranks <= int(metric.split("@", 1)[1])).astype(np.float64)
    raise UsageError(f"unknown retrieval metric {metric!r}; choose one of {', '.join(METRICS)}")


def metrics(ranks: np.ndarray) -> dict[str, float]:
    """MRR and Recall@1, 5, 10, 50, 100 (shares in [0, 1])."""
    return {m: float(per_question(ranks, m).mean()) for m in METRICS}


@dataclass
class RankedFile:
    path: str
    meta: dict[str, Any]
    qids: pa.Array
    ranks: np.ndarray


def is_ranked(meta: dict[str, Any] | None) -> bool:
    return bool(meta) and meta.get("kind") == "ranked"


def read_ranked(path: str) -> RankedFile:
    """Read a ranked artifact; refuses other kinds and bad ranks."""
    table, reader = read_artifact(path, None)
    meta = reader.meta or {}
    require_columns(
        table, ["qid", "rank"], path, "make one with `lsctl retrieve bm25` or `predict`"
    )
    if meta and meta.get("kind") != "ranked":
        raise LsctlError(f"{path}: a {meta.get('kind')} artifact, not ranked retrieval predictions")
    if "pool" not in meta:
        raise LsctlError(
            f"{path}: no lsctl metadata saying which pool was ranked (all or fold); "
            "a file rewritten by another tool loses it: use the file lsctl wrote"
        )
    rank = table.column("rank")
    if not pa.types.is_integer(rank.type) or rank.null_count:
        raise LsctlError(f"{path}: column 'rank' must be integers without nulls")
    ranks = as_numpy(rank.combine_chunks()).astype(np.int64)
    if len(ranks) and ranks.min() < 1:
        raise LsctlError(f"{path}: ranks start at 1; found {int(ranks.min())}")
    return RankedFile(path, meta, table.column("qid").combine_chunks(), ranks)


def evaluate_files(paths: list[str]) -> list[dict[str, Any]]:
    """One summary per ranked file: name, seed, pool, fold, n, and every metric."""
    out = []
    for path in paths:
        f = read_ranked(path)
        out.append(
            {
                "path": path,
                "name": f.meta.get("name"),
                "seed": f.meta.get("seed"),
                "pool": f.meta.get("pool"),
                "fold": f.meta.get("fold"),
                "pool_size": f.meta.get("pool_size"),
                "n": len(f.ranks),
                **metrics(f.ranks),
            }
        )
    return out
