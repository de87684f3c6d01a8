"""Metrics against scikit-learn and hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, log_loss, precision_recall_fscore_support

from lsctl.evaluate import metrics


def _random_case(seed: int, n: int = 500, k: int = 4):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=(n, k))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = rng.integers(0, k, n)
    return p, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_metrics_match_sklearn(seed):
    p, y = _random_case(seed)
    k = p.shape[1]
    pred = p.argmax(axis=1)
    assert metrics.accuracy(y, pred) == pytest.approx(accuracy_score(y, pred))
    assert metrics.macro_f1(y, pred, k) == pytest.approx(
        f1_score(y, pred, average="macro", zero_division=0)
    )
    prec, rec, f1, sup = precision_recall_fscore_support(
        y, pred, labels=list(range(k)), zero_division=0
    )
    pc = metrics.per_class(y, pred, k)
    np.testing.assert_allclose(pc.precision, prec)
    np.testing.assert_allclose(pc.recall, rec)
    np.testing.assert_allclose(pc.f1, f1)
    np.testing.assert_array_equal(pc.support, sup)
    assert metrics.nll(p, y) == pytest.approx(log_loss(y, p, labels=list(range(k))))


def test_macro_f1_with_absent_class_matches_sklearn():
    # Class 3 never occurs in gold or predictions; class 2 is predicted but never true.
    y = np.array([0, 0, 1, 1, 1, 0])
    pred = np.array([0, 2, 1, 1, 0, 0])
    assert metrics.macro_f1(y, pred, 4) == pytest.approx(
        f1_score(y, pred, average="macro", zero_division=0)
    )
    # By hand: F1(0) = 2·2/(3+3), F1(1) = 2·2/(2+3), F1(2) = 0, averaged over 3 classes.
    assert metrics.macro_f1(y, pred, 4) == pytest.approx((4 / 6 + 4 / 5 + 0) / 3)


def test_brier_by_hand():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4]])
    y = np.array([0, 2])
    by_hand = ((0.3**2 + 0.2**2 + 0.1**2) + (0.1**2 + 0.5**2 + 0.6**2)) / 2
    assert metrics.brier(p, y) == pytest.approx(by_hand)
    pr, yr = _random_case(5)
    onehot = np.eye(pr.shape[1])[yr]
    assert metrics.brier(pr, yr) == pytest.approx(((pr - onehot) ** 2).sum(axis=1).mean())


def test_brier_binary_is_twice_sklearn_brier_score_loss():
    from sklearn.metrics import brier_score_loss

    rng = np.random.default_rng(3)
    q = rng.random(200)
    p = np.stack([1 - q, q], axis=1)
    y = rng.integers(0, 2, 200)
    assert metrics.brier(p, y) == pytest.approx(2 * brier_score_loss(y, q))


def _ece_loop(p, y, bins):
    """Guo et al. 2017, written as a plain loop over bins (lo, hi]."""
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == y
    n = len(y)
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        in_bin = [(lo < c <= hi) or (b == 0 and c == 0) for c in conf]
        in_bin = np.array(in_bin)
        if in_bin.any():
            total += in_bin.sum() / n * abs(correct[in_bin].mean() - conf[in_bin].mean())
    return total


@pytest.mark.parametrize("bins", [1, 10, 15, 20])
def test_ece_matches_loop(bins):
    p, y = _random_case(7, n=800, k=5)
    assert metrics.ece(p, y, bins) == pytest.approx(_ece_loop(p, y, bins), abs=1e-12)


def test_ece_hand_case():
    # Two bins. Bin (0, .5]: conf .4 and .5, one correct → |0.5 − 0.45|·2/4.
    # Bin (.5, 1]: conf .9 and 1.0, both correct → |1 − 0.95|·2/4.
    p = np.array([[0.4, 0.3, 0.3], [0.5, 0.5, 0.0], [0.9, 0.1, 0.0], [0.0, 1.0, 0.0]])
    y = np.array([0, 1, 0, 1])
    assert metrics.ece(p, y, 2) == pytest.approx(0.5 * 0.05 + 0.5 * 0.05)
    rel = metrics.reliability(p, y, 2)
    np.testing.assert_array_equal(rel.count, [2, 2])
    np.testing.assert_allclose(rel.confidence, [0.45, 0.95])
    np.testing.assert_allclose(rel.accuracy, [0.5, 1.0])


def test_perfectly_calibrated_bins_give_zero_ece():
    # Within each bin accuracy equals confidence exactly.
    p = np.array([[0.75, 0.25]] * 4 + [[1.0, 0.0]] * 2)
    y = np.array([0, 0, 0, 1, 0, 0])
    assert metrics.ece(p, y, 4) == pytest.approx(0.0, abs=1e-12)


def test_summary_keys_and_per_class():
    p, y = _random_case(9, k=3)
    s = metrics.summary(p, y, ["a", "b", "c"], bins=15)
    assert set(s) >= {"accuracy", "macro_f1", "nll", "brier", "ece", "per_class", "n"}
    assert list(s["per_class"]) == ["a", "b", "c"]
    assert sum(v["support"] for v in s["per_class"].values()) == len(y)
