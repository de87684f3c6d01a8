"""McNemar, Holm and the over-seed tests against scipy and hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from lsctl.stats.hypothesis import holm, mcnemar, mcnemar_counts, paired_ttest, wilcoxon


@pytest.mark.parametrize(("n01", "n10"), [(0, 5), (3, 9), (12, 12), (40, 61), (1, 0), (200, 150)])
def test_mcnemar_exact_is_two_sided_binomial_test(n01, n10):
    expected = stats.binomtest(n01, n01 + n10, 0.5, alternative="two-sided").pvalue
    assert mcnemar(n01, n10, "exact") == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("n01", "n10"), [(3, 9), (40, 61), (200, 150), (7, 8)])
def test_mcnemar_chi2_with_continuity_correction_by_hand(n01, n10):
    stat = (abs(n01 - n10) - 1) ** 2 / (n01 + n10)
    # χ² with one degree of freedom: P[X > s] = erfc(sqrt(s / 2)).
    assert mcnemar(n01, n10, "chi2") == pytest.approx(math.erfc(math.sqrt(stat / 2)), rel=1e-12)


def test_mcnemar_no_discordant_pairs_and_counts():
    assert mcnemar(0, 0) == 1.0
    a = np.array([1, 1, 0, 0, 1], bool)
    b = np.array([1, 0, 1, 0, 0], bool)
    assert mcnemar_counts(a, b) == (2, 1)
    with pytest.raises(ValueError):
        mcnemar(1, 2, "yates")


def test_holm_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # Sorted: .005·4 = .02, .01·3 = .03, .03·2 = .06, .04·1 = .04 → running max .06.
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, None, 0.8]) == [pytest.approx(1.0), None, pytest.approx(1.0)]
    assert holm([]) == []


def test_ttest_and_wilcoxon_equal_scipy():
    a = [0.81, 0.83, 0.80, 0.84, 0.82]
    b = [0.79, 0.80, 0.81, 0.80, 0.78]
    assert paired_ttest(a, b) == stats.ttest_rel(a, b).pvalue
    assert wilcoxon(a, b) == stats.wilcoxon(a, b).pvalue
    assert paired_ttest([0.8], [0.7]) is None
    assert wilcoxon(a, a) is None
