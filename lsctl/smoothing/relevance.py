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

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from lsctl.errors import LsctlError
from lsctl.numeric import softmax
from lsctl.params import Param
from lsctl.progress import Progress, ensure
from lsctl.smoothing.base import fits
from lsctl.text.counts import (
    DocTerm,
    Vocabulary,
    count_batch,
    count_tokens,
    prefetched,
    tokenize_batch,
)
from lsctl.text.tokenize import TokenizerSpec
from lsctl.validation import check_range, check_seed

VARIANTS = ("kwls", "tfidf")
# The KWLS authors' k1, b and k2: the one place these defaults are written.
K1, B, K2 = 2.0, 0.75, 2.0
# Up to this, k·f overflows nothing, and the saturation is already gone:
# WIC = f·k2/(f + k2) is within f/k2 of f (relative), WLC within f/(k1·norm) of
# f/norm, so 1e-6 even for a word counted 1e6 times in a class. A larger k only
# risks inf/inf.
K_MAX = 1e12
# Their declarations, for the command line and every check.
SATURATION = (
    Param("k1", float, None, f"k1 in (0, {K_MAX:g}] [{K1}, or the --keywords']", low=0,
          low_open=True, high=K_MAX, hint=f"(the authors use {K1})"),
    Param("b", float, None, f"b in [0, 1] [{B}, or the --keywords']", low=0, high=1,
          hint=f"(the authors use {B})"),
    Param("k2", float, None, f"k2 in (0, {K_MAX:g}] [{K2}].", low=0, low_open=True,
          high=K_MAX, hint=f"(the authors use {K2})"),
)  # fmt: skip


def check_params(k1: float, b: float, k2: float) -> None:
    """Refuse k1, b or k2 outside their declared ranges (None is refused too)."""
    for p, value in zip(SATURATION, (k1, b, k2), strict=True):
        if value is None:  # Param.check takes None as "not given"; a value is needed here
            check_range(p.name, value, hint=p.hint)
        p.check(value)


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
        v, k = dt.n_words, self.counts.shape[1]
        self.grow(v)
        # One key per stored entry, word·K + label of its document, built in
        # place: this runs on the counting pass's critical path.
        key = dt.indices.astype(np.int64)
        key *= k
        key += np.repeat(y, np.diff(dt.indptr))
        self.counts[:v] += np.bincount(key, weights=dt.data, minlength=v * k).reshape(v, k)
        self.df[:v] += np.bincount(dt.indices, minlength=v)
        self.class_tokens += np.bincount(y, weights=dt.lengths, minlength=k)
        self.n_docs += dt.n_docs
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


@dataclass
class Fitted:
    """Everything needed to score documents: WLR, WIW, X_avg (and the variant)."""

    wlr: np.ndarray  # V×K
    wiw: np.ndarray  # V
    x_avg: float
    k2: float
    variant: str
    # WLR's label columns, each contiguous (K×V), made once per fit: a 1-D take
    # from one is about twice as fast as the strided gather wlr[indices, c]
    # (IMDb batches: 11 vs 19 ms).
    wlr_columns: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.wlr_columns = np.ascontiguousarray(self.wlr.T)

    @classmethod
    def from_stats(
        cls, stats: Stats, k1: float, b: float, k2: float, variant: str, keep: np.ndarray | None
    ) -> Fitted:
        counts = stats.counts if keep is None else np.where(keep[:, None], stats.counts, 0.0)
        _, _, wlr = word_label_terms(counts, stats.class_tokens, k1, b, variant)
        return cls(wlr, word_instance_weight(stats.df, stats.n_docs), stats.x_avg, k2, variant)

    def ilr(self, dt: DocTerm) -> np.ndarray:
        """n×K ILR = WIR · WLRᵀ for a batch's counts (over V' ≤ V words)."""
        f = dt.data.astype(np.float64)
        wir = f * self.k2 / (f + self.k2) if self.variant == "kwls" else f
        wir *= self.wiw[dt.indices]
        return _row_sums(dt, wir, self.wlr_columns)

    def targets(self, dt: DocTerm) -> np.ndarray:
        return softmax(self.ilr(dt) / self.x_avg)


def _row_sums(dt: DocTerm, weights: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """n×K Σ over each row's entries j of weights[j] · columns[:, word j]: a CSR × dense
    product, with the dense side given as K contiguous columns (K×V).

    One bincount per label: bincount adds in entry order, as SciPy's product
    does, so the sums are the same to the last bit (reduceat's are not), and
    no SciPy import (0.1 s) is needed.
    """
    rows = dt.row_ids()
    out = np.empty((dt.n_docs, len(columns)))
    for c in range(len(columns)):
        out[:, c] = np.bincount(
            rows, weights=weights * columns[c].take(dt.indices), minlength=dt.n_docs
        )
    return out


# ---------------------------------------------------------------------------
# Passes over data


class Spilled:
    """A batch's doc×word counts in a temporary file, read back once by the second pass."""

    def __init__(self, folder: str, start: int, dt: DocTerm) -> None:
        self.path = os.path.join(folder, f"{start}.npy")
        self.n_words = dt.n_words
        with open(self.path, "wb") as f:
            for a in (dt.indptr, dt.indices, dt.data, dt.lengths):
                np.save(f, a)

    def load(self) -> DocTerm:
        # Read into memory and delete, not mmap: mapped pages would count
        # towards the process's memory for the rest of the run.
        with open(self.path, "rb") as f:
            indptr, indices, data, lengths = (np.load(f) for _ in range(4))
        os.remove(self.path)
        return DocTerm(indptr, indices, data, lengths, self.n_words)


@dataclass
class Pass:
    """The result of a counting pass: vocabulary, total and per-fold statistics."""

    vocab: Vocabulary
    total: Stats
    folds: list[Stats] = field(default_factory=list)
    # (start, counts): in memory within the budget, spilled to ``spill`` past it.
    cache: list[tuple[int, DocTerm | Spilled]] | None = None
    spill: tempfile.TemporaryDirectory | None = None


# Doc×word matrices (8 bytes per nonzero) are kept in memory when the whole
# input's fit in this size (projected from the batches seen, base.fits); a
# larger input's go to a temporary folder, all of them. Reading them back costs
# a fraction of tokenizing again, so the time per row stays the same however
# large the input, and memory stays flat.
CACHE_BYTES = 64 << 20


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
    kept: list[tuple[int, DocTerm | Spilled]] | None = [] if cache else None
    spill: tempfile.TemporaryDirectory | None = None
    used = 0
    in_memory = True
    with ensure(progress).task("counting words", total=total_rows) as task:
        for (start, batch), (y, tokens) in prefetched(
            batches, lambda b: (y_of(b[1]), tokenize_batch(b[1].column("text"), spec))
        ):
            dt = count_tokens(tokens, vocab)
            del tokens
            total.add(dt, y)
            if fold_of is not None:
                fb = fold_of[start : start + batch.num_rows]
                for j in range(n_folds):
                    rows = np.flatnonzero(fb == j)
                    folds[j].add(dt.take(rows), y[rows])
            if kept is not None:
                used += dt.nnz * 8
                if in_memory and fits(used, start + batch.num_rows, total_rows, CACHE_BYTES):
                    kept.append((start, dt))
                else:
                    # Once one batch goes to disk the rest follow: memory stays
                    # at what is already held.
                    in_memory = False
                    if spill is None:
                        spill = tempfile.TemporaryDirectory(prefix="lsctl-counts-")
                    kept.append((start, Spilled(spill.name, start, dt)))
            task.advance(batch.num_rows)
    v = len(vocab)
    total.grow(v)
    for s in folds:
        s.grow(v)
    return Pass(vocab, total, folds, kept, spill)


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
    return Fitted.from_stats(stats, k1, b, k2, variant, None).ilr(dt)


def instance_label_relevance(
    texts: Any,
    y: np.ndarray,
    k: int,
    *,
    spec: TokenizerSpec = TokenizerSpec(),
    k1: float = K1,
    b: float = B,
    k2: float = K2,
) -> np.ndarray:
    """N×K ILR(i, m) = Σ_w WLR(w, m)·WIR(w, i), statistics fitted on the same texts.

    ``texts``: list of str or a pyarrow string array; ``y``: label indices in [0, k).
    """
    check_params(k1, b, k2)
    arr = texts if isinstance(texts, (pa.Array, pa.ChunkedArray)) else pa.array(texts, pa.string())
    return ilr_from_texts(arr, np.asarray(y, dtype=np.int64), k, spec, k1=k1, b=b, k2=k2)


# ---------------------------------------------------------------------------
# The keywords artifact: everything needed to apply the statistics elsewhere.
#
# Rows: one per (word, label) with f(w,m) ≥ 1: word, label, count = f(w,m),
# wlc, wlw, wlr (with the artifact's k1 and b), rank of the word within the
# label by WLR, df = documents containing the word.
# Metadata params: k1, b, tokenizer, min_count; metadata "stats": n_docs (N),
# n_tokens, x_avg, class_tokens {label: S_m}. From these, WLR for any k1/b and
# WIW = ln(N/df)+1 are rebuilt exactly.

KEYWORD_COLUMNS = ("word", "label", "count", "wlc", "wlw", "wlr", "rank", "df")


def keep_mask(stats: Stats, min_count: int) -> np.ndarray | None:
    """Words kept by ``--min-count`` (total count over labels), or None for all."""
    if min_count <= 1:
        return None
    return stats.counts.sum(axis=1) >= min_count


def keywords_table(
    vocab: Vocabulary, stats: Stats, labels: list[str], k1: float, b: float, min_count: int = 1
) -> pa.Table:
    """The long word×label table, sorted by label, then rank."""
    counts = stats.counts
    keep = keep_mask(stats, min_count)
    if keep is not None:
        counts = np.where(keep[:, None], counts, 0.0)
    wlc, wlw, wlr = word_label_terms(counts, stats.class_tokens, k1, b, "kwls")
    w_idx, m_idx = np.nonzero(counts > 0)
    # Rank within each label: by WLR descending, ties by word id (first appearance).
    order = np.lexsort((w_idx, -wlr[w_idx, m_idx], m_idx))
    w_idx, m_idx = w_idx[order], m_idx[order]
    starts = np.searchsorted(m_idx, np.arange(len(labels)))
    rank = np.arange(len(m_idx)) - starts[m_idx] + 1
    return pa.table(
        {
            "word": vocab.words.take(pa.array(w_idx)).cast(pa.string()),
            "label": pa.array(np.asarray(labels, dtype=object)[m_idx], pa.string()),
            "count": pa.array(counts[w_idx, m_idx].astype(np.int64)),
            "wlc": pa.array(wlc[w_idx, m_idx]),
            "wlw": pa.array(wlw[w_idx]),
            "wlr": pa.array(wlr[w_idx, m_idx]),
            "rank": pa.array(rank.astype(np.int64)),
            "df": pa.array(stats.df[w_idx].astype(np.int64)),
        }
    )


def stats_meta(stats: Stats, labels: list[str]) -> dict[str, Any]:
    return {
        "n_docs": int(stats.n_docs),
        "n_tokens": float(stats.n_tokens),
        "x_avg": stats.x_avg,
        "class_tokens": {lab: float(s) for lab, s in zip(labels, stats.class_tokens, strict=True)},
    }


def stats_from_keywords(
    table: pa.Table, meta: dict[str, Any] | None, where: str
) -> tuple[Vocabulary, Stats, list[str], dict[str, Any]]:
    """Rebuild (frozen vocabulary, statistics, labels, params) from a keywords artifact."""
    import pyarrow.compute as pc

    if not meta and {"word", "label", "count", "df"} <= set(table.column_names):
        raise LsctlError(
            f"{where}: a keywords table without its lsctl metadata (e.g. rewritten by pandas), "
            "which holds the corpus statistics (documents, tokens per class) it needs; rebuild "
            "it with `lsctl keywords TRAIN -o KW.parquet`"
        )
    if not meta or meta.get("kind") != "keywords" or "stats" not in meta:
        raise LsctlError(
            f"{where}: not a keywords artifact; make one with `lsctl keywords TRAIN -o KW.parquet`"
        )
    missing = [c for c in ("word", "label", "count", "df") if c not in table.column_names]
    if missing:
        raise LsctlError(f"{where}: keywords artifact without column {missing[0]!r}")
    labels = [str(x) for x in meta["labels"]]
    params = meta.get("params", {})
    spec = TokenizerSpec.from_dict(params.get("tokenizer"))
    s = meta["stats"]
    words = pc.unique(table.column("word").combine_chunks())
    vocab = Vocabulary(spec, words, frozen=True)
    w = pc.index_in(table.column("word"), value_set=vocab.words.cast(table.column("word").type))
    m = pc.index_in(table.column("label"), value_set=pa.array(labels, pa.string()))
    if m.null_count:
        raise LsctlError(f"{where}: keywords rows with a label outside its label list")
    w_np = w.to_numpy(zero_copy_only=False).astype(np.int64)
    m_np = m.to_numpy(zero_copy_only=False).astype(np.int64)
    stats = Stats.zeros(len(vocab), len(labels))
    stats.counts[w_np, m_np] = table.column("count").to_numpy().astype(np.float64)
    stats.df[w_np] = table.column("df").to_numpy().astype(np.float64)
    stats.class_tokens = np.array([float(s["class_tokens"][lab]) for lab in labels])
    stats.n_docs = int(s["n_docs"])
    stats.n_tokens = float(s["n_tokens"])
    return vocab, stats, labels, params


# ---------------------------------------------------------------------------
# Helpers of the kwls and tfidf methods (lsctl.smoothing.kwls).


def fold_assignment(n: int, folds: int, seed: int) -> np.ndarray:
    """Fold of each row: a seeded permutation dealt round-robin (sizes differ by ≤ 1)."""
    check_seed(seed)
    out = np.empty(n, dtype=np.int64)
    out[np.random.default_rng(seed).permutation(n)] = np.arange(n) % folds
    return out


def check_min_count(min_count: int | None) -> None:
    """The one --min-count rule of `keywords` and `softlabel`: at least 1 (1 keeps every word)."""
    if min_count is not None:
        check_range("min_count", min_count, low=1, hint="(1 keeps every word)")
