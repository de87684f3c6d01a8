"""Adaptive and classwise ECE against plain loops, and temperature scaling against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from lsctl.evaluate import calibrate, metrics

# -- loops written from the definitions, independent of metrics.py -------------


def _adaptive_loop(probs, y, bins):
    """Sort by confidence; bin b = sorted positions floor(bN/M) .. floor((b+1)N/M) - 1 (no ties)."""
    n = len(y)
    conf = [max(r) for r in probs]
    order = sorted(range(n), key=lambda i: conf[i])
    total = 0.0
    for b in range(bins):
        members = order[b * n // bins : (b + 1) * n // bins]
        hits = sum(1 for i in members if list(probs[i]).index(conf[i]) == y[i])
        total += abs(hits - sum(conf[i] for i in members)) / n
    return total


def _classwise_loop(probs, y, bins):
    n, k = len(y), len(probs[0])
    total = 0.0
    for c in range(k):
        for b in range(bins):
            lo, hi = b / bins, (b + 1) / bins
            members = [
                i for i in range(n) if lo < probs[i][c] <= hi or (b == 0 and probs[i][c] == 0)
            ]
            hits = sum(1 for i in members if y[i] == c)
            total += abs(hits - sum(probs[i][c] for i in members)) / n
    return total / k


def _random_case(seed, n=200, k=4):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(k) * 0.7, n)
    y = rng.integers(0, k, n)
    return probs, y


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("bins", [1, 3, 10, 15])
def test_adaptive_ece_matches_a_loop(seed, bins):
    probs, y = _random_case(seed, n=97 + seed)  # n not a multiple of most bin counts
    got = metrics.ece_adaptive(probs, y, bins)
    assert got == pytest.approx(_adaptive_loop(probs.tolist(), y.tolist(), bins), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("bins", [1, 5, 15])
def test_classwise_ece_matches_a_loop(seed, bins):
    probs, y = _random_case(seed, k=2 + seed % 4)
    got = metrics.ece_classwise(probs, y, bins)
    assert got == pytest.approx(_classwise_loop(probs.tolist(), y.tolist(), bins), abs=1e-12)


def test_adaptive_bins_hold_equal_counts_without_ties():
    probs, y = _random_case(3, n=100)
    rel = metrics.reliability(probs, y, 8, "equal-mass")
    # floor(bN/M) boundaries: sizes 12 or 13, summing to N.
    assert rel.count.tolist() == [(b + 1) * 100 // 8 - b * 100 // 8 for b in range(8)]
    assert rel.scheme == "equal-mass"


def test_adaptive_ece_keeps_ties_in_one_bin():
    """Hand case: confidences 0.6 ×3 and 0.9 ×1, two bins. The edge is the sorted value at
    position floor(4/2) = 2, i.e. 0.6, so all three 0.6s share bin 1 with the 0.9; bin 0 is empty."""
    probs = np.array([[0.6, 0.4], [0.6, 0.4], [0.4, 0.6], [0.9, 0.1]])
    y = np.array([0, 1, 1, 0])  # correct, wrong, correct, correct
    rel = metrics.reliability(probs, y, 2, "equal-mass")
    assert rel.count.tolist() == [0, 4]
    # |3 hits - (0.6·3 + 0.9)| / 4 = 0.3 / 4
    assert rel.ece == pytest.approx(0.3 / 4, abs=1e-12)
    # The row order does not matter.
    perm = [3, 1, 0, 2]
    assert metrics.ece_adaptive(probs[perm], y[perm], 2) == pytest.approx(rel.ece, abs=1e-15)


@pytest.mark.parametrize("seed", range(5))
def test_adaptive_bins_never_split_a_tied_confidence(seed):
    """Confidences on a coarse grid (many ties): every value lies in exactly one bin, and
    the adaptive ECE does not depend on the row order."""
    rng = np.random.default_rng(seed)
    n, bins = 150, 10
    top = rng.choice([0.5, 0.6, 0.7, 0.8, 0.9, 1.0], n, p=[0.1, 0.1, 0.1, 0.2, 0.2, 0.3])
    probs = np.stack([top, 1 - top], axis=1)
    y = rng.integers(0, 2, n)
    rel = metrics.reliability(probs, y, bins, "equal-mass")
    idx = metrics.bin_index_edges(top, rel.edges, "left")
    for v in np.unique(top):
        assert len(set(idx[top == v].tolist())) == 1, v
    assert rel.count.sum() == n
    # Loop over the distinct values: a bin's ECE term from its members' sums.
    want = 0.0
    for b in range(bins):
        members = [i for i in range(n) if idx[i] == b]
        hits = sum(1 for i in members if (0 if top[i] >= 0.5 else 1) == y[i])
        want += abs(hits - sum(top[i] for i in members)) / n
    assert rel.ece == pytest.approx(want, abs=1e-12)
    perm = rng.permutation(n)
    assert metrics.ece_adaptive(probs[perm], y[perm], bins) == pytest.approx(rel.ece, abs=1e-12)


@pytest.mark.parametrize("scheme", metrics.SCHEMES)
@pytest.mark.parametrize("bins", [1, 2, 7, 15])
def test_confidence_of_one_falls_in_the_last_bin(scheme, bins):
    # Many rows at exactly 1.0 (ties spanning what would be several equal-mass bins).
    conf = np.array([1.0] * 6 + [0.5, 0.7, 0.95])
    probs = np.stack([conf, 1 - conf], axis=1)
    y = np.zeros(len(conf), dtype=int)
    rel = metrics.reliability(probs, y, bins, scheme)
    edges = rel.edges
    idx = metrics.bin_index_edges(conf, edges, "left" if scheme == "equal-mass" else "right")
    assert (idx[:6] == bins - 1).all()
    assert rel.count[-1] >= 6
    assert edges[-1] == 1.0


def test_classwise_probability_one_falls_in_the_last_bin():
    """p_k = 1 for the gold class and 0 elsewhere: perfectly calibrated, so every term is 0.

    A 1.0 binned below the last bin with some 0s (or a 0 with some 1s) would mix
    hits and misses in one bin and give a positive ECE.
    """
    y = np.array([0, 1, 2, 1])
    probs = np.eye(3)[y]
    for bins in (1, 4, 15):
        assert metrics.ece_classwise(probs, y, bins) == 0.0
        assert metrics.bin_index(np.array([1.0, 0.0]), bins).tolist() == [bins - 1, 0]


def test_ece_matches_torchmetrics_if_installed():
    tm = pytest.importorskip("torchmetrics.functional.classification")
    import torch

    probs, y = _random_case(7, n=300, k=5)
    want = tm.multiclass_calibration_error(
        torch.tensor(probs), torch.tensor(y), num_classes=5, n_bins=15, norm="l1"
    )
    assert metrics.ece(probs, y, 15) == pytest.approx(float(want), abs=1e-6)


def test_summary_reports_the_three_eces_and_their_schemes():
    probs, y = _random_case(1)
    s = metrics.summary(probs, y, ["a", "b", "c", "d"], 10)
    assert s["ece"] == pytest.approx(metrics.ece(probs, y, 10))
    assert s["ece_adaptive"] == pytest.approx(_adaptive_loop(probs.tolist(), y.tolist(), 10))
    assert s["ece_classwise"] == pytest.approx(_classwise_loop(probs.tolist(), y.tolist(), 10))
    assert s["bins"] == 10
    assert s["binning"]["ece_adaptive"] == "equal-mass"
    assert s["binning"]["ece"] == "equal-width"


# -- temperature scaling --------------------------------------------------------


def _planted(seed, n=5000, k=4, t_true=2.0):
    """Labels drawn from softmax(z); the model reports z·t_true, so T = t_true undoes it."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k)) * 2.5
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    y = (p.cumsum(1) > rng.random((n, 1))).argmax(1)
    return z * t_true, y


def _nll_loop(z, y, t):
    total = 0.0
    for row, g in zip(z, y, strict=True):
        m = max(row / t)
        lse = m + np.log(sum(np.exp(v / t - m) for v in row))
        total += lse - row[g] / t
    return total / len(y)


@pytest.mark.parametrize("t_true", [0.5, 2.0, 3.0])
def test_temperature_recovers_a_planted_temperature(t_true):
    z, y = _planted(0, n=20000, t_true=t_true)
    t = calibrate.fit_temperature(z, y)
    # Sampling noise of the MLE with 20k examples is well below 1e-2 (relative).
    assert t == pytest.approx(t_true, rel=1e-2)


def test_temperature_is_the_grid_minimum():
    z, y = _planted(1, n=600, t_true=1.7)
    t = calibrate.fit_temperature(z, y)
    grid = np.exp(np.linspace(np.log(0.5), np.log(5), 2001))
    nlls = [_nll_loop(z, y, g) for g in grid[::50]]  # coarse loop check of the objective
    assert calibrate.temperature_nll(z, y, grid[100]) == pytest.approx(_nll_loop(z, y, grid[100]))
    fine = np.array([calibrate.temperature_nll(z, y, g) for g in grid])
    best = grid[fine.argmin()]
    step = grid[1] / grid[0]
    assert best / step <= t <= best * step
    assert calibrate.temperature_nll(z, y, t) <= fine.min() + 1e-12
    assert min(nlls) >= fine.min() - 1e-12


def test_calibrated_nll_is_not_above_the_uncalibrated_on_dev():
    for seed in range(4):
        z, y = _planted(seed, n=300, t_true=[0.6, 1.0, 2.5, 4.0][seed])
        t = calibrate.fit_temperature(z, y)
        assert calibrate.temperature_nll(z, y, t) <= calibrate.temperature_nll(z, y, 1.0) + 1e-12


def test_log_probabilities_give_the_same_temperature_as_logits():
    z, y = _planted(2, n=800)
    logp = calibrate.logits_from_probs(calibrate.scale(z, 1.0)[1])
    assert calibrate.fit_temperature(logp, y) == pytest.approx(
        calibrate.fit_temperature(z, y), rel=1e-5
    )


def test_scaling_keeps_the_argmax():
    z, _ = _planted(3, n=500)
    _, p = calibrate.scale(z, 3.7)
    assert (p.argmax(1) == z.argmax(1)).all()
    assert np.allclose(p.sum(1), 1.0)


@pytest.mark.parametrize("scheme", metrics.SCHEMES)
def test_reliability_title_gives_n_bins_and_scheme(monkeypatch, scheme):
    from lsctl.evaluate import plots

    titles = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: titles.append(fig.axes[0].get_title()))
    probs, y = _random_case(4, n=1234)
    plots.reliability_diagram(metrics.reliability(probs, y, 12, scheme), "x.png", "kwls")
    assert "kwls" in titles[0] and "n=1,234" in titles[0]
    assert f"12 bins ({scheme})" in titles[0]
