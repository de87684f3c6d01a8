"""Sampling from T: distribution (chi-square), exact counts, realized T."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import chisquare
from sklearn.metrics import confusion_matrix

from lsctl.noise import inject as inj
from lsctl.noise import transition as tr


def _random_t(k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = rng.dirichlet(np.ones(k), size=k)
    t[0, 1] = 0.0  # a structural zero must never be drawn
    return t / t.sum(axis=1, keepdims=True)


def _row_chisquare(y, noisy, t):
    """Smallest per-row chi-square p-value of noisy | clean against T."""
    k = t.shape[0]
    pvals = []
    for c in range(k):
        obs = np.bincount(noisy[y == c], minlength=k)
        keep = t[c] > 0
        assert obs[~keep].sum() == 0, f"row {c}: drew a zero-probability class"
        if keep.sum() < 2:
            continue  # a deterministic row: the zero-draw assert above is the whole check
        exp = t[c, keep] * obs.sum()
        pvals.append(chisquare(obs[keep], exp).pvalue)
    return min(pvals)


@pytest.mark.parametrize("k", [2, 5, 10])
def test_sample_matches_t_by_chisquare(k):
    t = _random_t(k, k)
    y = np.random.default_rng(100 + k).integers(0, k, 200_000)
    noisy = inj.sample(y, t, np.random.default_rng(7))
    # Bonferroni over k rows at an overall 1e-3 level.
    assert _row_chisquare(y, noisy, t) > 1e-3 / k


def test_sample_would_detect_a_wrong_distribution():
    # Guard for the test above: the same check rejects a sample drawn from another T.
    t = tr.symmetric(5, 0.4)
    y = np.random.default_rng(0).integers(0, 5, 200_000)
    noisy = inj.sample(y, tr.symmetric(5, 0.42), np.random.default_rng(1))
    assert _row_chisquare(y, noisy, t) < 1e-6


def test_sample_handles_degenerate_rows():
    t = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    y = np.array([0, 1, 2] * 1000)
    noisy = inj.sample(y, t, np.random.default_rng(0))
    np.testing.assert_array_equal(noisy, np.array([0, 2, 1] * 1000))


def _round_half_up(x: Fraction) -> int:
    return int(x + Fraction(1, 2)) if x >= 0 else 0


@pytest.mark.parametrize("seed", [0, 1])
def test_exact_counts_per_class(seed):
    k = 4
    rate = 0.35
    t = tr.symmetric(k, rate)
    y = np.repeat(np.arange(k), [101, 250, 7, 1002])
    np.random.default_rng(seed).shuffle(y)
    noisy = inj.inject(y, t, seed=seed, exact=True).noisy
    counts = confusion_matrix(y, noisy, labels=range(k))
    for c in range(k):
        n_c = int((y == c).sum())
        m = _round_half_up(Fraction("0.35") * n_c)
        assert n_c - counts[c, c] == m
        # Off-diagonal targets are split as evenly as integers allow.
        off = np.delete(counts[c], c)
        assert off.sum() == m and off.max() - off.min() <= 1


def test_exact_allocation_follows_off_diagonal_row():
    row = np.array([0.5, 0.3, 0.0, 0.2])
    alloc = inj.exact_allocation(1000, row, 0)
    np.testing.assert_array_equal(alloc, [500, 300, 0, 200])
    # 7 labels, 3.5 flip → 4 (half up); split 0.6:0.4 of 4 → 2.4, 1.6 → 2, 2.
    alloc = inj.exact_allocation(7, row, 0)
    assert alloc[0] == 3 and alloc.sum() == 7 and alloc[2] == 0
    assert sorted(alloc[[1, 3]].tolist()) == [2, 2]


def test_exact_rows_are_a_random_subset():
    y = np.zeros(10_000, dtype=np.int64)
    y[5000:] = 1
    a = inj.inject(y, tr.symmetric(2, 0.3), seed=0, exact=True).noisy
    b = inj.inject(y, tr.symmetric(2, 0.3), seed=1, exact=True).noisy
    assert (a != y).sum() == (b != y).sum() == 3000
    assert ((a != y) & (b != y)).sum() < 1200  # ~0.3·3000 overlap for independent subsets


def test_realized_matrix_matches_sklearn():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 5000)
    res = inj.inject(y, tr.pairflip(4, 0.3), seed=3)
    np.testing.assert_allclose(
        res.realized, confusion_matrix(y, res.noisy, labels=range(4), normalize="true")
    )
    assert res.realized_rate == pytest.approx(np.mean(res.noisy != y))
    assert res.intended_rate == pytest.approx(0.3)


def test_realized_matrix_zero_row_for_absent_class():
    y = np.array([0, 0, 2, 2])
    res = inj.inject(y, tr.symmetric(3, 0.5), seed=0)
    np.testing.assert_array_equal(res.realized[1], [0, 0, 0])
    assert res.class_counts.tolist() == [2, 0, 2]


def test_seed_reproducible_and_sensitive():
    y = np.random.default_rng(0).integers(0, 3, 1000)
    t = tr.symmetric(3, 0.4)
    for exact in (False, True):
        a = inj.inject(y, t, 5, exact).noisy
        np.testing.assert_array_equal(a, inj.inject(y, t, 5, exact).noisy)
        assert (a != inj.inject(y, t, 6, exact).noisy).any()


def test_rate_zero_changes_nothing():
    y = np.random.default_rng(0).integers(0, 3, 1000)
    for exact in (False, True):
        np.testing.assert_array_equal(inj.inject(y, tr.symmetric(3, 0.0), 1, exact).noisy, y)
