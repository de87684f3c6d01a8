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
    # Compared with the edges b/M themselves: ceil(c·M) − 1 puts a confidence
    # lying exactly on an edge one bin too high whenever c·M rounds up
    # (7/25 · 25 = 7.000000000000001).
    edges = np.arange(bins + 1, dtype=np.float64) / bins
    idx = np.searchsorted(edges, np.asarray(confidence, dtype=np.float64), side="left") - 1
    return np.clip(idx, 0, bins - 1)


@dataclass
class Reliability:
    """Per-bin data for a reliability diagram (empty bins have count 0 and NaN means)."""

    edges: np.ndarray  # M+1 bin edges
    count: np.ndarray
    confidence: np.ndarray  # mean top-label confidence per bin
    accuracy: np.ndarray  # share correct per bin
    ece: float


def reliability(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> Reliability:
    if bins < 1:
        raise ValueError("bins must be at least 1")
    p = np.asarray(probs, dtype=np.float64)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == np.asarray(y)).astype(np.float64)
    b = bin_index(conf, bins)
    count = np.bincount(b, minlength=bins)
    conf_sum = np.bincount(b, weights=conf, minlength=bins)
    acc_sum = np.bincount(b, weights=correct, minlength=bins)
    n = max(len(conf), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_conf = np.where(count > 0, conf_sum / count, np.nan)
        mean_acc = np.where(count > 0, acc_sum / count, np.nan)
    ece_value = float(np.abs(acc_sum - conf_sum).sum() / n)
    return Reliability(np.linspace(0.0, 1.0, bins + 1), count, mean_conf, mean_acc, ece_value)


def ece(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    return reliability(probs, y, bins).ece


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
        "ece": ece(probs, y, bins),
        "bins": bins,
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
