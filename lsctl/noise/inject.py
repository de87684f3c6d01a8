"""Apply a transition matrix to labels, and measure what was actually injected.

Everything is vectorized over rows; the only Python loops run over classes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from lsctl.noise.transition import noise_rate
from lsctl.validation import check_seed


@dataclass
class NoiseResult:
    noisy: np.ndarray  # int64 label indices after noise
    intended: np.ndarray  # K×K, rows sum to 1 (expected T for instance noise)
    realized: np.ndarray  # K×K, row c = distribution of noisy labels among clean class c
    counts: np.ndarray  # K×K integer confusion counts clean×noisy
    class_counts: np.ndarray  # K, clean-label counts
    realized_rate: float  # fraction of rows whose label changed
    intended_rate: float  # expected fraction under ``intended`` and the class counts


def round_half_up(x: np.ndarray | float) -> np.ndarray:
    # np.round rounds half to even, which would make --exact counts depend on parity.
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(np.int64)


def sample(y: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw noisy[i] ~ T[y[i]] independently, by inverse CDF on one uniform per row.

    Row c's CDF is shifted by c and all rows are concatenated into one
    non-decreasing array, so a single ``searchsorted`` of ``u + y`` finds every
    row's draw at once. Zero-probability entries repeat the previous CDF value
    and so can never be the first entry strictly greater than ``u + y``.
    """
    k = t.shape[0]
    cdf = np.cumsum(t, axis=1)
    cdf[:, -1] = 1.0  # rounding in cumsum must not leave a gap at the top
    flat = (cdf + np.arange(k)[:, None]).ravel()
    u = rng.random(y.shape[0])
    pos = np.searchsorted(flat, u + y, side="right")
    return np.minimum(pos - y * k, k - 1).astype(np.int64)


def exact_allocation(n: int, row: np.ndarray, c: int) -> np.ndarray:
    """How many of ``n`` clean-class-``c`` labels go to each class under --exact.

    round(n·(1−T[c,c])) labels flip; they are spread over the other classes in
    proportion to T's off-diagonal row, by largest remainder so the parts add up.
    """
    k = row.shape[0]
    out = np.zeros(k, dtype=np.int64)
    flip_p = 1.0 - row[c]
    m = int(round_half_up(n * flip_p)) if flip_p > 0 else 0
    if m == 0:
        out[c] = n
        return out
    w = row.copy()
    w[c] = 0.0
    quota = m * w / w.sum()
    base = np.floor(quota).astype(np.int64)
    short = m - int(base.sum())
    if short:
        # Stable sort: ties go to the lower class index, so the split is deterministic.
        order = np.argsort(-(quota - base), kind="stable")
        order = order[order != c]
        base[order[:short]] += 1
    out += base
    out[c] = n - m
    return out


def sample_exact(y: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flip exactly round(n_c·(1−T[c,c])) labels of each class c (cleanlab's way).

    Which rows flip is a uniform random subset of the class; their targets
    follow :func:`exact_allocation`.
    """
    k = t.shape[0]
    noisy = y.copy()
    order = np.argsort(y, kind="stable")
    bounds = np.searchsorted(y[order], np.arange(k + 1))
    for c in range(k):
        members = order[bounds[c] : bounds[c + 1]]
        alloc = exact_allocation(members.size, t[c], c)
        noisy[rng.permutation(members)] = np.repeat(np.arange(k), alloc)
    return noisy


def confusion(y: np.ndarray, noisy: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(y * k + noisy, minlength=k * k).reshape(k, k)


def realized_matrix(counts: np.ndarray) -> np.ndarray:
    """Row-normalised confusion counts; a class absent from the data gets a zero row."""
    n = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, n, out=np.zeros(counts.shape, dtype=np.float64), where=n > 0)


def summarize(y: np.ndarray, noisy: np.ndarray, intended: np.ndarray) -> NoiseResult:
    k = intended.shape[0]
    counts = confusion(y, noisy, k)
    class_counts = counts.sum(axis=1)
    n = y.shape[0]
    return NoiseResult(
        noisy=noisy,
        intended=intended,
        realized=realized_matrix(counts),
        counts=counts,
        class_counts=class_counts,
        realized_rate=float((noisy != y).sum() / n) if n else 0.0,
        intended_rate=noise_rate(intended, class_counts),
    )


def inject(y: np.ndarray, t: np.ndarray, seed: int, exact: bool = False) -> NoiseResult:
    """Apply T to label indices ``y`` (int, 0..K−1); same seed, same result."""
    check_seed(seed)
    y = np.asarray(y, dtype=np.int64)
    rng = np.random.default_rng(seed)
    noisy = sample_exact(y, t, rng) if exact else sample(y, t, rng)
    return summarize(y, noisy, t)


def noisy_table(table, labels, noisy, clean, stacked):
    """The input rows with `label` set to the noisy labels, plus `clean_label` and `is_noisy`.

    A stacked input keeps its original `clean_label`.
    """
    label_type = table.schema.field("label").type
    names = pa.array(labels, pa.string())
    noisy_col: Any = names.take(pa.array(noisy))
    with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
        noisy_col = noisy_col.cast(label_type)
    pos = table.schema.get_field_index("label")
    original = table.column("label")
    out = table.set_column(pos, pa.field("label", noisy_col.type), noisy_col)
    if not stacked:
        out = out.append_column("clean_label", original)
    is_noisy = pa.array(np.asarray(noisy) != np.asarray(clean))
    if "is_noisy" in out.column_names:
        out = out.set_column(out.schema.get_field_index("is_noisy"), "is_noisy", is_noisy)
    else:
        out = out.append_column("is_noisy", is_noisy)
    return out
