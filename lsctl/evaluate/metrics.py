"""Classification metrics on N×K probability matrices (numpy only).

Conventions, chosen to match scikit-learn and Guo et al. 2017 so numbers can
be checked against them:

- ``pred`` is the argmax of the probabilities (first index on ties).
- macro-F1 averages the per-class F1 over the classes that occur in the gold
  labels or the predictions (scikit-learn's ``average="macro"`` without
  ``labels=``); a class with no true positives gets F1 = 0.
- NLL is the mean of ``-log p[y]``, with p clipped to at least ``NLL_EPS`` so a
  hard zero does not give infinity.
- Brier is the multi-class score of Brier (1950): the mean over instances of
  ``Σ_k (p_k - onehot(y)_k)²``. It ranges over [0, 2]; the binary "probability
  of the positive class" form used by ``sklearn.metrics.brier_score_loss`` is
  half of it for K = 2.
- ECE uses ``bins`` equal-width bins over the top-label confidence, L1:
  ``Σ_b |B_b|/N · |acc(B_b) - conf(B_b)|``. Bin b holds confidences in
  ``(b/M, (b+1)/M]`` (Guo et al. 2017); a confidence of exactly 0 goes to the
  first bin.
- Adaptive ECE (Nixon et al. 2019) uses ``bins`` equal-mass bins: the
  interior edge e_b is the sorted confidence at 0-based position ⌊bN/M⌋, and
  bin b holds ``[e_b, e_{b+1})`` (the last bin also holds 1). Without ties bin
  b holds the examples at sorted positions ⌊bN/M⌋ … ⌊(b+1)N/M⌋−1; tied
  confidences always share a bin (the highest one starting at their value), so
  the result never depends on the row order.
- Classwise ECE (Kull et al. 2019) is the mean over the K classes of the
  equal-width ECE of ``p_k`` against ``1[y = k]``, over all N examples.
- In every scheme a confidence of exactly 1 falls in the last bin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NLL_EPS = 1e-15


def predictions(probs: np.ndarray) -> np.ndarray:
    return np.asarray(probs).argmax(axis=1)


def accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    y, pred = np.asarray(y), np.asarray(pred)
    return float((y == pred).mean()) if len(y) else float("nan")


def confusion(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """K×K counts, rows = gold, columns = predicted."""
    return np.bincount(np.asarray(y) * k + np.asarray(pred), minlength=k * k).reshape(k, k)


@dataclass
class PerClass:
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    predicted: np.ndarray


def per_class(y: np.ndarray, pred: np.ndarray, k: int) -> PerClass:
    """Precision, recall, F1 and support per class; 0 where undefined (as sklearn's zero_division=0)."""
    cm = confusion(y, pred, k)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        # 2TP/(2TP+FP+FN) = 2TP/(predicted+support): the same F1, defined whenever
        # the class occurs at all, which is what the bootstrap needs too.
        denom = predicted + support
        f1 = np.where(denom > 0, 2 * tp / denom, 0.0)
    return PerClass(precision, recall, f1, support, predicted)


def f1_from_counts(tp: np.ndarray, predicted: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Macro-F1 from per-class counts along the last axis (works on R×K round matrices).

    The one formula both ``macro_f1`` and the bootstrap use.
    """
    denom = predicted + support
    present = denom > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(present, 2 * tp / np.where(present, denom, 1), 0.0)
    n_present = present.sum(axis=-1)
    return f1.sum(axis=-1) / np.maximum(n_present, 1)


def macro_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    cm = confusion(y, pred, k)
    return float(f1_from_counts(np.diag(cm), cm.sum(axis=0), cm.sum(axis=1)))


def nll_per_instance(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = np.asarray(probs)[np.arange(len(y)), np.asarray(y)].astype(np.float64)
    return -np.log(np.maximum(p, NLL_EPS))


def nll(probs: np.ndarray, y: np.ndarray) -> float:
    return float(nll_per_instance(probs, y).mean())


def brier(probs: np.ndarray, y: np.ndarray) -> float:
    p = np.asarray(probs, dtype=np.float64)
    sq = (p**2).sum(axis=1)
    # Σ_k (p_k - 1[k=y])² = Σ p_k² - 2 p_y + 1, without building the one-hot matrix.
    py = p[np.arange(len(y)), np.asarray(y)]
    return float((sq - 2 * py + 1).mean())


def bin_index(confidence: np.ndarray, bins: int) -> np.ndarray:
    """Bin of each confidence: (b/M, (b+1)/M] → b, with 0 in bin 0."""
    return bin_index_edges(confidence, np.arange(bins + 1, dtype=np.float64) / bins)


def bin_index_edges(confidence: np.ndarray, edges: np.ndarray, closed: str = "right") -> np.ndarray:
    """Bin of each value for M+1 ascending ``edges``.

    ``closed="right"``: (e_b, e_{b+1}] → b, values ≤ e_1 in bin 0 (Guo et al.'s
    equal-width bins). ``closed="left"``: [e_b, e_{b+1}) → b, values ≥ e_{M−1}
    in bin M−1 (equal-mass bins). Either way a value of exactly 1 = e_M is in
    the last bin.

    Parameters
    ----------
    confidence : ndarray, shape (N,)
        Values in [0, 1].
    edges : ndarray, shape (M + 1,)
        Non-decreasing bin edges; repeated edges make empty bins.
    closed : {"right", "left"}
        Which end of each interval belongs to it.

    Returns
    -------
    ndarray of int, shape (N,)
        Bin indices in ``0 … M−1``; a value of exactly ``edges[-1]`` is in bin M−1.

    Examples
    --------
    >>> bin_index_edges(np.array([0.0, 0.5, 0.51, 1.0]), np.array([0.0, 0.5, 1.0])).tolist()
    [0, 0, 1, 1]
    >>> bin_index_edges(np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.5, 1.0]), "left").tolist()
    [0, 1, 1]
    """
    # Compared with the edges themselves: ceil(c·M) − 1 puts a confidence
    # lying exactly on an edge one bin too high whenever c·M rounds up
    # (7/25 · 25 = 7.000000000000001).
    edges = np.asarray(edges, dtype=np.float64)
    side = "left" if closed == "right" else "right"
    idx = np.searchsorted(edges, np.asarray(confidence, dtype=np.float64), side=side) - 1
    return np.clip(idx, 0, len(edges) - 2)


SCHEMES = ("equal-width", "equal-mass")


def bin_edges(confidence: np.ndarray, bins: int, scheme: str = "equal-width") -> np.ndarray:
    """The M+1 bin edges of a binning scheme.

    Parameters
    ----------
    confidence : ndarray, shape (N,)
        Confidences in [0, 1] (used by ``equal-mass`` only).
    bins : int
        Number of bins M ≥ 1.
    scheme : {"equal-width", "equal-mass"}
        ``equal-width``: ``b/M``. ``equal-mass``: 0, the sorted confidence at
        0-based position ⌊bN/M⌋ for b = 1 … M−1, and 1.

    Returns
    -------
    ndarray, shape (M + 1,)

    Examples
    --------
    >>> bin_edges(np.array([0.9, 0.3, 0.6, 0.8]), 2, "equal-mass").tolist()
    [0.0, 0.8, 1.0]
    """
    if bins < 1:
        raise ValueError("bins must be at least 1")
    if scheme == "equal-width":
        return np.arange(bins + 1, dtype=np.float64) / bins
    if scheme != "equal-mass":
        raise ValueError(f"unknown binning scheme {scheme!r}; choose one of {SCHEMES}")
    s = np.sort(np.asarray(confidence, dtype=np.float64))
    n = len(s)
    edges = np.empty(bins + 1, dtype=np.float64)
    edges[0], edges[-1] = 0.0, 1.0
    if n == 0:
        edges[1:-1] = np.arange(1, bins, dtype=np.float64) / bins
        return edges
    # Integer floor(b·N/M), free of float rounding.
    edges[1:-1] = s[np.arange(1, bins, dtype=np.int64) * n // bins]
    return edges


@dataclass
class Reliability:
    """Per-bin data for a reliability diagram (empty bins have count 0 and NaN means)."""

    edges: np.ndarray  # M+1 bin edges
    count: np.ndarray
    confidence: np.ndarray  # mean top-label confidence per bin
    accuracy: np.ndarray  # share correct per bin
    ece: float
    scheme: str = "equal-width"


def _binned(
    value: np.ndarray, hit: np.ndarray, edges: np.ndarray, scheme: str = "equal-width"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(count, sum of value, sum of hit) per bin."""
    m = len(edges) - 1
    b = bin_index_edges(value, edges, "left" if scheme == "equal-mass" else "right")
    return (
        np.bincount(b, minlength=m),
        np.bincount(b, weights=value, minlength=m),
        np.bincount(b, weights=hit, minlength=m),
    )


def reliability(
    probs: np.ndarray, y: np.ndarray, bins: int = 15, scheme: str = "equal-width"
) -> Reliability:
    """Top-label reliability data and its ECE.

    Parameters
    ----------
    probs : ndarray, shape (N, K)
        Class probabilities.
    y : ndarray of int, shape (N,)
        Gold label indices.
    bins : int
        Number of bins M.
    scheme : {"equal-width", "equal-mass"}
        Binning of the top-label confidence (see ``bin_edges``).

    Returns
    -------
    Reliability
        Edges, per-bin counts, mean confidence and accuracy, and
        ``ece = Σ_b |B_b|/N · |acc(B_b) − conf(B_b)|``.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4]])
    >>> round(reliability(p, np.array([0, 1]), 2).ece, 6)
    0.25
    """
    if bins < 1:
        raise ValueError("bins must be at least 1")
    p = np.asarray(probs, dtype=np.float64)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == np.asarray(y)).astype(np.float64)
    edges = bin_edges(conf, bins, scheme)
    count, conf_sum, acc_sum = _binned(conf, correct, edges, scheme)
    n = max(len(conf), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_conf = np.where(count > 0, conf_sum / count, np.nan)
        mean_acc = np.where(count > 0, acc_sum / count, np.nan)
    ece_value = float(np.abs(acc_sum - conf_sum).sum() / n)
    return Reliability(edges, count, mean_conf, mean_acc, ece_value, scheme)


def ece(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE with ``bins`` equal-width bins (Guo et al. 2017); see ``reliability``."""
    return reliability(probs, y, bins).ece


def ece_adaptive(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE with ``bins`` equal-mass bins (adaptive ECE, Nixon et al. 2019).

    Parameters
    ----------
    probs : ndarray, shape (N, K)
    y : ndarray of int, shape (N,)
    bins : int

    Returns
    -------
    float

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.7, 0.3]])
    >>> round(ece_adaptive(p, np.array([0, 0, 1, 1]), 2), 6)
    0.15
    """
    return reliability(probs, y, bins, "equal-mass").ece


def ece_classwise(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Classwise ECE (Kull et al. 2019): the mean over classes of the equal-width ECE of p_k.

    For each class k, all N probabilities ``p_k`` are put in ``bins``
    equal-width bins and compared with the share of examples of class k in
    each bin: ``(1/K) Σ_k Σ_b |B_kb|/N · |mean 1[y=k] − mean p_k|``.

    Parameters
    ----------
    probs : ndarray, shape (N, K)
    y : ndarray of int, shape (N,)
    bins : int

    Returns
    -------
    float

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4]])
    >>> round(ece_classwise(p, np.array([0, 1]), 2), 6)
    0.25
    """
    if bins < 1:
        raise ValueError("bins must be at least 1")
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y)
    n, k = p.shape
    if n == 0:
        return 0.0
    edges = bin_edges(p[:, 0], bins)
    total = 0.0
    for c in range(k):
        _, p_sum, hit_sum = _binned(p[:, c], (y == c).astype(np.float64), edges)
        total += float(np.abs(hit_sum - p_sum).sum() / n)
    return total / k


BINNING = {
    "ece": "equal-width",
    "ece_adaptive": "equal-mass",
    "ece_classwise": "equal-width, per class",
}


def calibration(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> dict[str, float]:
    """The three ECEs ``lsctl eval`` reports: ``ece``, ``ece_adaptive``, ``ece_classwise``."""
    return {
        "ece": ece(probs, y, bins),
        "ece_adaptive": ece_adaptive(probs, y, bins),
        "ece_classwise": ece_classwise(probs, y, bins),
    }


def summary(probs: np.ndarray, y: np.ndarray, labels: list[str], bins: int = 15) -> dict:
    """Every metric ``lsctl eval`` reports, JSON-ready."""
    k = len(labels)
    pred = predictions(probs)
    pc = per_class(y, pred, k)
    return {
        "n": len(y),
        "accuracy": accuracy(y, pred),
        "macro_f1": macro_f1(y, pred, k),
        "nll": nll(probs, y),
        "brier": brier(probs, y),
        **calibration(probs, y, bins),
        "bins": bins,
        "binning": dict(BINNING),
        "per_class": {
            lab: {
                "precision": float(pc.precision[i]),
                "recall": float(pc.recall[i]),
                "f1": float(pc.f1[i]),
                "support": int(pc.support[i]),
            }
            for i, lab in enumerate(labels)
        },
    }
