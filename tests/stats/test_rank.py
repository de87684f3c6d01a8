"""Ranks across datasets against scipy and Demšar (2006)'s worked numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from lsctl.stats.rank import (
    Q_ALPHA,
    average_ranks,
    cd_groups,
    friedman,
    iman_davenport,
    nemenyi_cd,
    nemenyi_q,
    rank,
    wilcoxon_holm,
)


def _planted(n=9, k=4, seed=3):
    """Scores with a planted order (system j is better by 0.02·j) and ties rounded in."""
    rng = np.random.default_rng(seed)
    x = 0.7 + 0.02 * np.arange(k)[None, :] + rng.normal(0, 0.02, (n, k))
    x = np.round(x, 2)  # two decimals: several datasets get tied systems
    return x


def test_planted_example_has_ties():
    x = _planted()
    assert any(len(set(row)) < len(row) for row in x)


def test_average_ranks_with_ties_match_rankdata():
    x = _planted()
    want = np.vstack([stats.rankdata(-row) for row in x])  # higher score -> rank 1
    assert np.allclose(average_ranks(x), want)
    want_low = np.vstack([stats.rankdata(row) for row in x])
    assert np.allclose(average_ranks(x, lower_is_better=True), want_low)


def test_average_ranks_by_hand():
    got = average_ranks([[0.5, 0.9, 0.5, 0.1], [1, 1, 1, 1]])
    assert got.tolist() == [[2.5, 1.0, 2.5, 4.0], [2.5, 2.5, 2.5, 2.5]]
    # The same three seed scores summed in two orders differ in the last bit;
    # they are still a tie.
    a, b = (0.1 + 0.2 + 0.3) / 3, (0.3 + 0.2 + 0.1) / 3
    assert a != b
    assert average_ranks([[a, b, 0.0]]).tolist() == [[1.5, 1.5, 3.0]]


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_friedman_equals_scipy_on_a_planted_example(seed):
    x = _planted(seed=seed)
    res = friedman(average_ranks(x))
    ref = stats.friedmanchisquare(*x.T)
    assert res.chi2 == pytest.approx(ref.statistic, rel=1e-12)
    assert res.p_chi2 == pytest.approx(ref.pvalue, rel=1e-10)
    assert ref.pvalue < 0.05  # the planted order is found


def test_iman_davenport_by_hand():
    x = _planted()
    n, k = x.shape
    res = friedman(average_ranks(x))
    chi2 = stats.friedmanchisquare(*x.T).statistic
    f = (n - 1) * chi2 / (n * (k - 1) - chi2)
    assert (res.df1, res.df2) == (k - 1, (k - 1) * (n - 1))
    assert res.f == pytest.approx(f, rel=1e-12)
    assert res.p_f == pytest.approx(stats.f.sf(f, k - 1, (k - 1) * (n - 1)), rel=1e-10)


@pytest.mark.parametrize(("n", "k"), [(3, 2), (2, 3), (3, 3), (4, 2)])
def test_unanimous_ranks_get_their_exact_null_chance_not_p_zero(n, k):
    # χ² at its maximum N(k−1) makes F infinite; its exact p under the null is
    # the share of all (k!)^N rank assignments in which the N datasets agree.
    import itertools

    perms = list(itertools.permutations(range(k)))
    draws = list(itertools.product(perms, repeat=n))
    agree = sum(len(set(d)) == 1 for d in draws) / len(draws)
    f, p = iman_davenport(n * (k - 1), n, k)
    assert math.isinf(f) and p == pytest.approx(agree, rel=1e-12)


def test_demsar_friedman_example():
    # Demšar 2006 §3.2.2: four classifiers on 14 datasets with average ranks
    # 3.143, 2.000, 2.893, 1.964 give χ²_F = 9.28 and F_F = 3.69; the critical
    # F(3, 39) at α = 0.05 is 2.85.
    r = np.array([3.143, 2.000, 2.893, 1.964])
    n, k = 14, 4
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(r**2) - k * (k + 1) ** 2 / 4)
    assert chi2 == pytest.approx(9.28, abs=0.005)
    f, p = iman_davenport(9.28, n, k)
    assert f == pytest.approx(3.69, abs=0.005)
    assert stats.f.ppf(0.95, 3, 39) == pytest.approx(2.85, abs=0.01)
    assert p < 0.05


def test_nemenyi_cd_demsar_example():
    # Demšar 2006 §3.2.2: q_0.05 = 2.569 for k = 4, CD = 2.569·sqrt(4·5/(6·14)) = 1.25.
    assert nemenyi_q(4, 0.05) == 2.569
    cd = nemenyi_cd(4, 14, 0.05)
    assert cd == pytest.approx(2.569 * math.sqrt(20 / 84), rel=1e-12)
    assert round(cd, 2) == 1.25


@pytest.mark.parametrize("alpha", [0.05, 0.10])
def test_q_table_is_the_studentized_range_over_sqrt2(alpha):
    # Demšar's Table 5(a) is rounded to 3 decimals (two entries differ from
    # scipy's value in the last digit); an independent source for every entry.
    for k, q in enumerate(Q_ALPHA[alpha], start=2):
        ref = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
        assert q == pytest.approx(ref, abs=1.5e-3), (alpha, k)


def test_nemenyi_refuses_what_the_table_lacks():
    with pytest.raises(ValueError, match=r"0\.05 and 0\.10"):
        nemenyi_q(3, 0.01)
    with pytest.raises(ValueError, match="2 to 10"):
        nemenyi_q(11, 0.05)


def test_cd_groups_by_hand():
    # Sorted: a 1.0, b 1.5, c 2.4, d 3.2. With CD 1.0: {a,b} (c is 1.4 from a),
    # {b,c} (0.9), {c,d} (0.8).
    assert cd_groups([1.0, 1.5, 2.4, 3.2], 1.0) == [[0, 1], [1, 2], [2, 3]]
    # A run inside a longer one is not repeated; a CD of exactly the gap separates.
    assert cd_groups([1.0, 1.2, 1.4, 3.0], 1.0) == [[0, 1, 2]]
    assert cd_groups([1.0, 2.0], 1.0) == []
    assert cd_groups([2.0, 1.0, 1.5], 5.0) == [[1, 2, 0]]


def _holm_by_hand(p):
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out, running = [0.0] * m, 0.0
    for step, i in enumerate(order):
        running = max(running, min(1.0, (m - step) * p[i]))
        out[i] = running
    return out


def test_wilcoxon_all_pairs_and_holm_by_hand():
    rng = np.random.default_rng(7)
    x = 0.7 + rng.normal(0, 0.03, (12, 3)) + np.array([0.0, 0.03, 0.01])
    rows = wilcoxon_holm(x)
    assert [(r["system"], r["vs"]) for r in rows] == [(1, 0), (2, 0), (2, 1)]
    p = [stats.wilcoxon(x[:, a], x[:, b]).pvalue for a, b in ((1, 0), (2, 0), (2, 1))]
    for r, want in zip(rows, p, strict=True):
        assert r["p"] == pytest.approx(want, rel=1e-12)
    assert [r["p_holm"] for r in rows] == pytest.approx(_holm_by_hand(p), rel=1e-12)
    for r in rows:
        d = x[:, r["system"]] - x[:, r["vs"]]
        assert (r["wins"], r["ties"], r["losses"]) == (
            int((d > 0).sum()),
            int((d == 0).sum()),
            int((d < 0).sum()),
        )


def test_wilcoxon_against_a_control_and_lower_is_better():
    x = np.array([[0.3, 0.5, 0.4], [0.2, 0.6, 0.3], [0.25, 0.55, 0.2], [0.1, 0.4, 0.3]])
    rows = wilcoxon_holm(x, control=0, lower_is_better=True)
    assert [(r["system"], r["vs"]) for r in rows] == [(1, 0), (2, 0)]
    # System 1 has the higher loss everywhere: 0 wins, 4 losses.
    assert (rows[0]["wins"], rows[0]["losses"]) == (0, 4)
    assert rows[0]["signed_rank"] < 0
    # Differences in the last bit only are zeros too (the means of equal seed
    # scores summed in another order).
    c, e = (0.1 + 0.2 + 0.3) / 3, (0.3 + 0.2 + 0.1) / 3
    tie = wilcoxon_holm(np.array([[c, e], [0.5, 0.5], [0.7, 0.7]]))[0]
    assert (tie["ties"], tie["p"]) == (3, None)
    # All differences zero: no p-value, Holm skips it.
    same = wilcoxon_holm(np.array([[0.5, 0.5], [0.6, 0.6], [0.7, 0.7]]))
    assert same[0]["p"] is None and same[0]["p_holm"] is None


def test_rank_puts_it_together():
    x = _planted(n=10, k=3, seed=11)
    r = rank(x, ["a", "b", "c"], [f"d{i}" for i in range(10)], alpha=0.10, control="a")
    want = np.mean([stats.rankdata(-row) for row in x], axis=0)
    assert r.average_ranks == pytest.approx(want.tolist())
    assert r.q_alpha == 2.052
    assert r.cd == pytest.approx(2.052 * math.sqrt(3 * 4 / (6 * 10)))
    assert [(w["system"], w["vs"]) for w in r.wilcoxon] == [("b", "a"), ("c", "a")]
    d = r.to_dict()
    assert d["friedman"]["chi2"] == pytest.approx(stats.friedmanchisquare(*x.T).statistic)
    # Groups are in the systems' names and respect the CD.
    avg = dict(zip(r.systems, r.average_ranks, strict=True))
    for g in r.groups:
        assert max(avg[s] for s in g) - min(avg[s] for s in g) < r.cd


def test_rank_lower_is_better_reverses_the_ranks():
    x = np.array([[0.1, 0.2], [0.3, 0.5], [0.2, 0.1]])
    r = rank(x, ["a", "b"], ["x", "y", "z"], lower_is_better=True)
    assert r.ranks == [[1.0, 2.0], [1.0, 2.0], [2.0, 1.0]]


def test_rank_refuses_small_or_mismatched_input():
    with pytest.raises(ValueError, match="at least 2 datasets"):
        rank([[0.1, 0.2]], ["a", "b"], ["x"])
    with pytest.raises(ValueError, match="names given"):
        rank([[0.1, 0.2], [0.3, 0.1]], ["a"], ["x", "y"])
    with pytest.raises(ValueError, match="control"):
        rank([[0.1, 0.2], [0.3, 0.1]], ["a", "b"], ["x", "y"], control="c")
