"""Instance-dependent noise: flip probabilities, targets, rate control."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from scipy.stats import chisquare, rankdata, spearmanr

from lsctl.noise import instance as ins


def _synthetic_ilr(n: int, k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    ilr = rng.gamma(2.0, 1.0, (n, k))
    ilr[np.arange(n), y] += rng.gamma(2.0, 1.0, n)
    return ilr, y


def test_targets_are_most_relevant_other_class():
    ilr = np.array([[5.0, 4.0, 1.0], [0.5, 3.0, 2.0], [9.0, 1.0, 1.0]])
    y = np.array([0, 1, 2])
    target, margin = ins.targets_and_margins(ilr, y)
    np.testing.assert_array_equal(target, [1, 2, 0])
    np.testing.assert_allclose(margin, [-1.0, -1.0, 8.0])


def test_mid_ranks_match_scipy():
    x = np.random.default_rng(0).integers(0, 30, 500).astype(float)
    np.testing.assert_allclose(ins.mid_ranks(x), rankdata(x))


@pytest.mark.parametrize("rate", [0.05, 0.3, 0.8])
@pytest.mark.parametrize("tau", [0.05, 0.2, 1.0])
def test_flip_probabilities_mean_is_rate_and_follow_the_formula(rate, tau):
    margin = np.random.default_rng(1).normal(size=3000)
    p, a = ins.flip_probabilities(margin, rate, tau)
    assert p.mean() == pytest.approx(rate, abs=1e-10)
    s = (rankdata(margin) - 0.5) / margin.size
    np.testing.assert_allclose(p, expit(a + s / tau), rtol=1e-12, atol=1e-15)


def test_more_confusable_flips_more_and_ties_share():
    margin = np.array([-3.0, -1.0, -1.0, 0.5, 2.0])
    p, _ = ins.flip_probabilities(margin, 0.3, 0.2)
    assert p[1] == p[2]
    assert np.all(np.diff(p[[0, 1, 3, 4]]) > 0)


def test_rate_zero_flips_nothing():
    ilr, y = _synthetic_ilr(1000, 3)
    res, _ = ins.instance_noise(ilr, y, 0.0, seed=0)
    np.testing.assert_array_equal(res.noisy, y)


def test_instance_rate_and_targets():
    ilr, y = _synthetic_ilr(50_000, 4)
    res, det = ins.instance_noise(ilr, y, 0.25, seed=3)
    flipped = res.noisy != y
    # Binomial sd at n=50k is 0.0019; 4 sd.
    assert abs(flipped.mean() - 0.25) < 0.008
    np.testing.assert_array_equal(res.noisy[flipped], det.target[flipped])
    # Flips concentrate on confusable instances.
    assert spearmanr(det.margin, det.flip_prob).statistic > 0.99
    assert det.margin[flipped].mean() > det.margin[~flipped].mean()


def test_instance_realized_t_matches_expected_t():
    ilr, y = _synthetic_ilr(60_000, 3, seed=5)
    res, _ = ins.instance_noise(ilr, y, 0.3, seed=9)
    np.testing.assert_allclose(res.intended.sum(axis=1), 1.0)
    for c in range(3):
        obs = res.counts[c]
        exp = res.intended[c] * obs.sum()
        assert chisquare(obs, exp).pvalue > 1e-3 / 3


def test_expected_matrix_hand_worked():
    y = np.array([0, 0, 1])
    target = np.array([1, 2, 0])
    p = np.array([0.5, 0.25, 0.1])
    t = ins.expected_matrix(y, target, p, 3)
    expected = np.array([[0.625, 0.25, 0.125], [0.1, 0.9, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(t, expected)


def test_instance_exact_flips_round_rate_n_weighted_by_p():
    ilr, y = _synthetic_ilr(20_001, 3, seed=2)
    res, det = ins.instance_noise(ilr, y, 0.2, seed=4, exact=True)
    flipped = res.noisy != y
    assert flipped.sum() == 4000  # round(0.2·20001) = round(4000.2)
    assert det.flip_prob[flipped].mean() > det.flip_prob[~flipped].mean()
    again, _ = ins.instance_noise(ilr, y, 0.2, seed=4, exact=True)
    np.testing.assert_array_equal(again.noisy, res.noisy)


def test_bad_temperature():
    from lsctl.errors import LsctlError

    with pytest.raises(LsctlError, match=r"temperature=0\.0 must be > 0"):
        ins.flip_probabilities(np.zeros(3), 0.2, 0.0)
