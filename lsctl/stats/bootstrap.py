"""Vectorized paired bootstrap over test instances, with seeds nested.

Every metric here is a function of *additive per-instance statistics*: a
resample is a count vector w (how often each instance was drawn, Σw = N), and
the metric of the resample is ``reduce(w @ X)`` where X is an N×F matrix of
per-instance statistics (correct indicators, losses, per-class TP and
prediction counts, per-bin calibration gaps). A chunk of rounds is then one
matrix product ``W @ X`` for all systems and seeds at once, so the cost is one
count matrix per round shared by every system, and memory is bounded by the
chunk size.

The same W is used for every system in a round: that is what makes the
bootstrap *paired*. A system with several seeds gets the mean of its seeds'
metrics on the same resample (seeds nested inside rounds).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np

from lsctl.evaluate.metrics import bin_index, f1_from_counts, nll_per_instance
from lsctl.progress import Progress, ensure

METRICS = ("accuracy", "macro_f1", "nll", "ece")
LOWER_IS_BETTER = frozenset({"nll", "ece"})

# Rounds drawn per random-number call: the index block and its bincount stay in
# cache, which is ~10× faster than counting a whole chunk at once.
_DRAW_BLOCK = 8
# Bytes allowed for one chunk's count matrix.
_CHUNK_BYTES = 32 << 20
_MAX_WORKERS = 8


def instance_stats(
    metric: str, probs: np.ndarray, y: np.ndarray, k: int, bins: int = 15
) -> np.ndarray:
    """The N×F per-instance statistics whose (weighted) column sums determine ``metric``."""
    # No float64 copy of the whole matrix: only argmax, p[y] and max are needed.
    probs = np.asarray(probs)
    y = np.asarray(y)
    n = len(y)
    pred = probs.argmax(axis=1)
    if metric == "accuracy":
        return (pred == y).astype(np.float64)[:, None]
    if metric == "nll":
        return nll_per_instance(probs, y)[:, None]
    if metric == "macro_f1":
        x = np.zeros((n, 3 * k))
        rows = np.arange(n)
        hit = pred == y
        x[rows[hit], y[hit]] = 1.0  # TP
        x[rows, k + pred] = 1.0  # predicted as class
        x[rows, 2 * k + y] = 1.0  # gold class (support)
        return x
    if metric == "ece":
        conf = probs.max(axis=1).astype(np.float64)
        x = np.zeros((n, bins))
        x[np.arange(n), bin_index(conf, bins)] = (pred == y) - conf
        return x
    raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")


def reduce_stats(metric: str, sums: np.ndarray, n: int, k: int) -> np.ndarray:
    """Metric values from column sums: (..., F) → (...)."""
    if metric in ("accuracy", "nll"):
        return sums[..., 0] / n
    if metric == "macro_f1":
        return f1_from_counts(sums[..., :k], sums[..., k : 2 * k], sums[..., 2 * k : 3 * k])
    if metric == "ece":
        return np.abs(sums).sum(axis=-1) / n
    raise ValueError(f"unknown metric {metric!r}")


def point_estimate(metric: str, stats: np.ndarray, k: int) -> float:
    """The metric on the full test set (every instance drawn once)."""
    return float(reduce_stats(metric, stats.sum(axis=0), len(stats), k))


def _block_rng(seed: int, block: int) -> np.random.Generator:
    # One independent stream per block of rounds: round r's resample depends only
    # on (seed, r), not on chunking, thread scheduling or the total round count.
    return np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(block,))))


def count_matrix(
    seed: int,
    start: int,
    rounds: int,
    n: int,
    out: np.ndarray | None = None,
    executor: Executor | None = None,
) -> np.ndarray:
    """Resampling counts of rounds ``start … start+rounds-1``: a ``rounds``×n matrix.

    Row r counts how often each of the n instances was drawn (n draws with
    replacement) in that round. ``start`` must be a multiple of the block size.
    """
    if start % _DRAW_BLOCK:
        raise ValueError(f"start must be a multiple of {_DRAW_BLOCK}")
    w = out if out is not None else np.empty((rounds, n), dtype=np.float64)

    def fill(b: int) -> None:
        r0 = b * _DRAW_BLOCK
        rng = _block_rng(seed, (start + r0) // _DRAW_BLOCK)
        idx = rng.integers(0, n, size=(_DRAW_BLOCK, n), dtype=np.int32)
        for i in range(min(_DRAW_BLOCK, rounds - r0)):
            w[r0 + i] = np.bincount(idx[i], minlength=n)

    blocks = range(-(-rounds // _DRAW_BLOCK))
    if executor is None:
        for b in blocks:
            fill(b)
    else:
        # numpy draws random numbers without the GIL, so blocks overlap on several cores.
        list(executor.map(fill, blocks))
    return w


def paired_bootstrap(
    systems: Sequence[Sequence[np.ndarray]],
    metric: str,
    k: int,
    rounds: int = 10_000,
    seed: int = 0,
    progress: Progress | None = None,
    chunk: int | None = None,
) -> np.ndarray:
    """Per-round metric of every system: a ``rounds``×S matrix.

    ``systems[s]`` is the list of that system's per-seed statistic matrices
    (from ``instance_stats``), all N×F over the same N test instances in the
    same order.
    """
    if not systems or any(len(s) == 0 for s in systems):
        raise ValueError("every system needs at least one seed")
    blocks = [x for s in systems for x in s]
    n, f = blocks[0].shape
    if any(x.shape != (n, f) for x in blocks):
        raise ValueError("all statistic matrices must have the same shape")
    # Counts and 0/1 statistics are integers: float32 sums stay exact below 2^24
    # and the product runs twice as fast; real-valued statistics keep float64.
    exact32 = metric in ("accuracy", "macro_f1") and n < (1 << 24)
    dtype = np.float32 if exact32 else np.float64
    x = np.concatenate(blocks, axis=1).astype(dtype)
    n_seeds = [len(s) for s in systems]
    if chunk is None:
        chunk = max(_DRAW_BLOCK, _CHUNK_BYTES // (n * np.dtype(dtype).itemsize))
    chunk = max(_DRAW_BLOCK, min(chunk, rounds) // _DRAW_BLOCK * _DRAW_BLOCK)
    out = np.empty((rounds, len(systems)))
    w = np.empty((min(chunk, rounds), n), dtype=dtype)
    workers = min(_MAX_WORKERS, os.cpu_count() or 1)
    with (
        ThreadPoolExecutor(workers) if workers > 1 else nullcontext() as executor,
        ensure(progress).task("bootstrap", total=rounds) as task,
    ):
        for start in range(0, rounds, chunk):
            c = min(chunk, rounds - start)
            count_matrix(seed, start, c, n, w[:c], executor)
            sums = (w[:c] @ x).astype(np.float64).reshape(c, len(blocks), f)
            per_seed = reduce_stats(metric, sums, n, k)  # c × (total seeds)
            col = 0
            for s, m in enumerate(n_seeds):
                out[start : start + c, s] = per_seed[:, col : col + m].mean(axis=1)
                col += m
            task.advance(c)
    return out


def summarize_deltas(
    deltas: np.ndarray, metric: str, ci: float = 0.95
) -> tuple[float, float, float, float]:
    """(CI low, CI high, one-sided p, two-sided p) from per-round Δ = system − baseline.

    The improvement is Δ for higher-is-better metrics and −Δ for nll/ece.
    One-sided p is ``(1 + #rounds whose improvement is ≤ 0) / (R + 1)`` (H1: the
    system is better); the +1s count the observed data as one more round
    (Davison & Hinkley 1997, eq. 4.11), so R rounds never give p below
    1/(R + 1), and a handful of rounds cannot give p = 0. Two-sided p is
    ``min(1, 2·min(p≤0, p≥0))`` with the same correction; for two identical
    systems every Δ is 0, so both p-values are 1.

    >>> summarize_deltas(np.array([0.1, 0.2, -0.1, 0.3]), "accuracy")[2:]  # (1+1)/5, 2·(1+1)/5
    (0.4, 0.8)
    """
    improvement = -deltas if metric in LOWER_IS_BETTER else deltas
    r = len(improvement)
    p_one = float((1 + np.count_nonzero(improvement <= 0)) / (r + 1))
    p_ge = float((1 + np.count_nonzero(improvement >= 0)) / (r + 1))
    p_two = float(min(1.0, 2 * min(p_one, p_ge)))
    lo, hi = np.quantile(deltas, [(1 - ci) / 2, (1 + ci) / 2])
    return float(lo), float(hi), p_one, p_two
