"""Keyword relevance: KWLS equations (1)–(8) and the TF-IDF variant, vectorized.

The one place the formulas live (METHODS.md §1); ``kwls``, ``tfidf``,
``lsctl keywords`` and the noise models all come through here.

Statistics (:class:`Stats`) are additive sums over documents: class×word
counts f(w,m), document frequencies df(w), class token totals S_m, the number
of documents N and of tokens. A streaming pass adds one batch at a time; a
cross-fitting fold's statistics are the total minus the fold's own.

Per document, ILR = WIR · WLRᵀ is a sparse (n×V) × dense (V×K) product, and
the soft label is softmax(ILR / X_avg) computed with max-subtraction in float64.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from lsctl.errors import LsctlError
from lsctl.progress import Progress, ensure
from lsctl.text.counts import DocTerm, Vocabulary, count_batch
from lsctl.text.tokenize import TokenizerSpec

VARIANTS = ("kwls", "tfidf")


def check_params(k1: float, b: float, k2: float) -> None:
    if not k1 > 0:
        raise LsctlError(f"--k1 {k1} must be > 0 (the authors use 2.0)")
    if not 0.0 <= b <= 1.0:
        raise LsctlError(f"--b {b} must be in [0, 1] (the authors use 0.75)")
    if not k2 > 0:
        raise LsctlError(f"--k2 {k2} must be > 0 (the authors use 2.0)")


@dataclass
class Stats:
    """Additive corpus statistics over a vocabulary of V words and K labels."""

    counts: np.ndarray  # V×K f(w, m)
    df: np.ndarray  # V   number of documents containing w
    class_tokens: np.ndarray  # K   S_m
    n_docs: int = 0
    n_tokens: float = 0.0

    @classmethod
    def zeros(cls, v: int, k: int) -> Stats:
        return cls(np.zeros((v, k)), np.zeros(v), np.zeros(k))

    def grow(self, v: int) -> None:
        """Make room for words the vocabulary added since (they have zero counts here)."""
        extra = v - len(self.df)
        if extra > 0:
            self.counts = np.vstack([self.counts, np.zeros((extra, self.counts.shape[1]))])
            self.df = np.concatenate([self.df, np.zeros(extra)])

    def add(self, dt: DocTerm, y: np.ndarray) -> None:
        m = dt.matrix.tocsr()
        v, k = m.shape[1], self.counts.shape[1]
        self.grow(v)
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        self.counts[:v] += np.bincount(
            m.indices * k + y[rows], weights=m.data, minlength=v * k
        ).reshape(v, k)
        self.df[:v] += np.bincount(m.indices, minlength=v)
        self.class_tokens += np.bincount(y, weights=dt.lengths, minlength=k)
        self.n_docs += m.shape[0]
        self.n_tokens += float(dt.lengths.sum())

    def minus(self, other: Stats) -> Stats:
        v = len(self.df)
        other.grow(v)
        return Stats(
            self.counts - other.counts[:v],
            self.df - other.df[:v],
            self.class_tokens - other.class_tokens,
            self.n_docs - other.n_docs,
            self.n_tokens - other.n_tokens,
        )

    @property
    def x_avg(self) -> float:
        return self.n_tokens / self.n_docs if self.n_docs else 0.0


def word_label_terms(
    counts: np.ndarray, class_tokens: np.ndarray, k1: float, b: float, variant: str = "kwls"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(WLC V×K, WLW V, WLR V×K) from class×word counts and class sizes S_m.

    kwls:  WLC = f·k1 / (f + k1·(1 - b + b·S_m/S_avg))  (numerator k1, as the authors)
    tfidf: WLC = f / S_m
    both:  WLW = ln(p / #{m : f(w,m) ≥ 1}) + 1,  WLR = WLW · WLC.
    Words with no count anywhere get WLW = 0 (they never contribute).
    """
    p = counts.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        if variant == "kwls":
            s_avg = class_tokens.mean() if p else 0.0
            norm = 1.0 - b + b * class_tokens / s_avg if s_avg > 0 else np.ones(p)
            wlc = counts * k1 / (counts + k1 * norm)
        else:
            wlc = counts / class_tokens
        wlc = np.where(counts > 0, wlc, 0.0)
        n_classes = (counts >= 1).sum(axis=1)
        wlw = np.where(n_classes > 0, np.log(p / np.maximum(n_classes, 1)) + 1.0, 0.0)
    return wlc, wlw, wlw[:, None] * wlc


def word_instance_weight(df: np.ndarray, n_docs: int) -> np.ndarray:
    """WIW = ln(N / df) + 1; 0 for words no fitted document contains."""
    with np.errstate(divide="ignore"):
        return np.where(df > 0, np.log(n_docs / np.maximum(df, 1)) + 1.0, 0.0)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row softmax with max-subtraction in float64: finite for any finite input."""
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


@dataclass
class Fitted:
    """Everything needed to score documents: WLR, WIW, X_avg (and the variant)."""

    wlr: np.ndarray  # V×K
    wiw: np.ndarray  # V
    x_avg: float
    k2: float
    variant: str

    @classmethod
    def from_stats(
        cls, stats: Stats, k1: float, b: float, k2: float, variant: str, keep: np.ndarray | None
    ) -> Fitted:
        counts = stats.counts if keep is None else np.where(keep[:, None], stats.counts, 0.0)
        _, _, wlr = word_label_terms(counts, stats.class_tokens, k1, b, variant)
        return cls(wlr, word_instance_weight(stats.df, stats.n_docs), stats.x_avg, k2, variant)

    def ilr(self, matrix: Any) -> np.ndarray:
        """n×K ILR = WIR · WLRᵀ for an n×V' count matrix (V' ≤ V)."""
        m = matrix.tocsr()
        v = m.shape[1]
        f = m.data
        wic = f * self.k2 / (f + self.k2) if self.variant == "kwls" else f
        wir = m.copy()
        wir.data = wic * self.wiw[m.indices]
        return np.asarray(wir @ self.wlr[:v])

    def targets(self, matrix: Any) -> np.ndarray:
        return softmax(self.ilr(matrix) / self.x_avg)


# ---------------------------------------------------------------------------
# Passes over data


@dataclass
class Pass:
    """The result of a counting pass: vocabulary, total and per-fold statistics."""

    vocab: Vocabulary
    total: Stats
    folds: list[Stats] = field(default_factory=list)
    cache: list[DocTerm] | None = None  # per-batch counts, when they fit the budget


# Cached doc×word matrices (12 bytes per nonzero) are kept up to this size so
# the second pass need not tokenize again; larger inputs are re-tokenized.
CACHE_BYTES = 256 << 20


def count_pass(
    batches: Iterable[tuple[int, pa.RecordBatch]],
    spec: TokenizerSpec,
    labels: list[str],
    y_of: Any,
    fold_of: np.ndarray | None = None,
    n_folds: int = 0,
    progress: Progress | None = None,
    total_rows: int | None = None,
    cache: bool = True,
) -> Pass:
    """One streaming pass: tokenize, count, add to the (fold) statistics."""
    k = len(labels)
    vocab = Vocabulary(spec)
    total = Stats.zeros(0, k)
    folds = [Stats.zeros(0, k) for _ in range(n_folds)]
    kept: list[DocTerm] | None = [] if cache else None
    used = 0
    with ensure(progress).task("counting words", total=total_rows) as task:
        for start, batch in batches:
            y = y_of(batch)
            dt = count_batch(batch.column("text"), vocab)
            total.add(dt, y)
            if fold_of is not None:
                fb = fold_of[start : start + batch.num_rows]
                for j in range(n_folds):
                    rows = np.flatnonzero(fb == j)
                    folds[j].add(DocTerm(dt.matrix[rows], dt.lengths[rows]), y[rows])
            if kept is not None:
                used += dt.matrix.nnz * 12
                kept = [*kept, dt] if used <= CACHE_BYTES else None
            task.advance(batch.num_rows)
    v = len(vocab)
    total.grow(v)
    for s in folds:
        s.grow(v)
    return Pass(vocab, total, folds, kept)


def ilr_from_texts(
    texts: pa.Array | pa.ChunkedArray,
    y: np.ndarray,
    k: int,
    spec: TokenizerSpec,
    *,
    k1: float,
    b: float,
    k2: float,
    variant: str = "kwls",
) -> np.ndarray:
    """In-memory ILR with statistics fitted on the same texts."""
    vocab = Vocabulary(spec)
    dt = count_batch(texts, vocab)
    stats = Stats.zeros(len(vocab), k)
    stats.add(dt, y)
    return Fitted.from_stats(stats, k1, b, k2, variant, None).ilr(dt.matrix)


def iter_doc_terms(
    batches: Iterable[tuple[int, pa.RecordBatch]], vocab: Vocabulary, cache: list[DocTerm] | None
) -> Iterator[tuple[int, pa.RecordBatch, DocTerm]]:
    """Second pass: each batch with its counts (cached, or tokenized again)."""
    for i, (start, batch) in enumerate(batches):
        dt = cache[i] if cache is not None else count_batch(batch.column("text"), vocab)
        yield start, batch, dt
