"""The vectorized paired bootstrap against explicit resamples and planted effects."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, log_loss

from lsctl.evaluate import metrics
from lsctl.stats.bootstrap import (
    count_matrix,
    instance_stats,
    paired_bootstrap,
    point_estimate,
    reduce_stats,
    summarize_deltas,
)


def _probs(rng, n, k):
    z = rng.normal(scale=2.0, size=(n, k))
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def test_count_matrix_rows_are_resamples():
    w = count_matrix(0, 0, 50, 1000)
    assert w.shape == (50, 1000)
    np.testing.assert_array_equal(w.sum(axis=1), 1000)
    assert (w >= 0).all()
    # Each count is Binomial(n, 1/n): mean 1, variance ≈ 1.
    assert w.mean() == pytest.approx(1.0)
    assert w.var() == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1", "nll", "ece"])
def test_weighted_stats_equal_metric_on_explicit_resample(metric):
    rng = np.random.default_rng(1)
    n, k = 300, 4
    p, y = _probs(rng, n, k), rng.integers(0, k, n)
    x = instance_stats(metric, p, y, k, bins=10)

    def reference(pr, yr):
        if metric == "accuracy":
            return accuracy_score(yr, pr.argmax(1))
        if metric == "macro_f1":
            return f1_score(yr, pr.argmax(1), average="macro", zero_division=0)
        if metric == "nll":
            return log_loss(yr, pr, labels=list(range(k)))
        return metrics.ece(pr, yr, 10)

    for w in count_matrix(1, 0, 5, n):
        idx = np.repeat(np.arange(n), w.astype(int))
        got = float(reduce_stats(metric, w @ x, n, k))
        assert got == pytest.approx(reference(p[idx], y[idx]), rel=1e-9, abs=1e-12)
    assert point_estimate(metric, x, k) == pytest.approx(reference(p, y), rel=1e-9)


def test_seeds_are_nested_and_resamples_shared():
    rng = np.random.default_rng(2)
    n, k = 400, 3
    y = rng.integers(0, k, n)
    seeds_a = [instance_stats("accuracy", _probs(rng, n, k), y, k) for _ in range(3)]
    seeds_b = [instance_stats("accuracy", _probs(rng, n, k), y, k) for _ in range(2)]
    vals = paired_bootstrap([seeds_a, seeds_b], "accuracy", k, rounds=20, seed=7, chunk=64)
    w = count_matrix(7, 0, 20, n)
    want_a = np.mean([w @ x[:, 0] / n for x in seeds_a], axis=0)
    want_b = np.mean([w @ x[:, 0] / n for x in seeds_b], axis=0)
    np.testing.assert_allclose(vals[:, 0], want_a, rtol=1e-6)
    np.testing.assert_allclose(vals[:, 1], want_b, rtol=1e-6)


def test_rounds_depend_only_on_seed_and_index():
    from concurrent.futures import ThreadPoolExecutor

    whole = count_matrix(3, 0, 40, 100)
    with ThreadPoolExecutor(2) as ex:
        np.testing.assert_array_equal(count_matrix(3, 16, 20, 100, executor=ex), whole[16:36])
    assert not np.array_equal(count_matrix(4, 0, 8, 100), whole[:8])


def test_chunking_does_not_change_the_result():
    rng = np.random.default_rng(3)
    n, k = 200, 2
    y = rng.integers(0, k, n)
    systems = [[instance_stats("nll", _probs(rng, n, k), y, k)] for _ in range(2)]
    one = paired_bootstrap(systems, "nll", k, rounds=100, seed=1, chunk=100)
    many = paired_bootstrap(systems, "nll", k, rounds=100, seed=1, chunk=16)
    np.testing.assert_allclose(one, many)


def _correct_sets(rng, n, acc_a, acc_b):
    """Correctness of two systems with exactly acc·n correct each, overlapping at random."""
    a = np.zeros(n, bool)
    b = np.zeros(n, bool)
    a[rng.choice(n, round(acc_a * n), replace=False)] = True
    b[rng.choice(n, round(acc_b * n), replace=False)] = True
    return a.astype(float)[:, None], b.astype(float)[:, None]


def test_planted_two_point_gap_is_significant():
    # Like two real models, the systems agree on most instances: B is A with
    # 200 of A's hits turned into misses and 100 of A's misses into hits.
    rng = np.random.default_rng(4)
    a, _ = _correct_sets(rng, 5000, 0.82, 0.82)
    b = a.copy()
    b[rng.choice(np.flatnonzero(a[:, 0] == 1), 200, replace=False)] = 0
    b[rng.choice(np.flatnonzero(a[:, 0] == 0), 100, replace=False)] = 1
    assert a.mean() - b.mean() == pytest.approx(0.02)
    vals = paired_bootstrap([[a], [b]], "accuracy", 2, rounds=10_000, seed=0)
    lo, hi, p, _ = summarize_deltas(vals[:, 0] - vals[:, 1], "accuracy", 0.95)
    assert p < 0.01
    assert lo > 0 and hi > lo
    assert (lo + hi) / 2 == pytest.approx(0.02, abs=0.005)


def test_equal_accuracy_systems_give_p_near_half():
    # Different instances right, the same number right: Δ is symmetric around 0.
    rng = np.random.default_rng(5)
    a, b = _correct_sets(rng, 5000, 0.80, 0.80)
    assert (a != b).any()
    vals = paired_bootstrap([[a], [b]], "accuracy", 2, rounds=10_000, seed=0)
    lo, hi, p, p_two = summarize_deltas(vals[:, 0] - vals[:, 1], "accuracy", 0.95)
    assert p == pytest.approx(0.5, abs=0.05)
    assert lo < 0 < hi
    assert p_two > 0.9


def test_identical_systems_give_zero_deltas_and_p_one():
    rng = np.random.default_rng(6)
    a, _ = _correct_sets(rng, 1000, 0.8, 0.8)
    vals = paired_bootstrap([[a], [a.copy()]], "accuracy", 2, rounds=500, seed=0)
    lo, hi, p, p_two = summarize_deltas(vals[:, 0] - vals[:, 1], "accuracy", 0.95)
    assert lo == hi == 0.0
    assert p == 1.0 and p_two == 1.0


def test_lower_is_better_orientation():
    deltas = np.array([-0.2, -0.1, -0.3, 0.1])  # system's nll mostly lower: better
    _, _, p_nll, _ = summarize_deltas(deltas, "nll")
    _, _, p_acc, _ = summarize_deltas(deltas, "accuracy")
    # (1 + rounds with no improvement) / (R + 1): nll 1 of 4, accuracy 3 of 4.
    assert p_nll == pytest.approx(2 / 5)
    assert p_acc == pytest.approx(4 / 5)


def test_few_rounds_cannot_give_p_zero():
    """One round that favours the system: p is 1/2, not 0 (it was 0, and 'significant')."""
    _, _, p, p_two = summarize_deltas(np.array([0.09]), "accuracy")
    assert (p, p_two) == (0.5, 1.0)
    # With R rounds all favouring the system, p is the floor 1/(R + 1).
    _, _, p, p_two = summarize_deltas(np.full(1999, 0.01), "accuracy")
    assert p == pytest.approx(1 / 2000) and p_two == pytest.approx(2 / 2000)
