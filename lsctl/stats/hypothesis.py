"""Classical paired tests and Holm's correction (scipy imported lazily)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np


def _finite(p: float) -> float | None:
    return float(p) if p is not None and math.isfinite(p) else None


def paired_ttest(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided paired t-test p (scipy ``ttest_rel``); None below 2 pairs or with zero variance."""
    if len(a) < 2 or len(a) != len(b):
        return None
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _finite(stats.ttest_rel(a, b).pvalue)


def wilcoxon(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided Wilcoxon signed-rank p (scipy defaults); None when it cannot be computed.

    With all differences zero there is nothing to rank, so no p-value.
    """
    if len(a) < 2 or len(a) != len(b):
        return None
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if not np.any(d != 0):
        return None
    from scipy import stats

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _finite(stats.wilcoxon(a, b).pvalue)
    except ValueError:
        return None


def mcnemar_counts(correct_a: np.ndarray, correct_b: np.ndarray) -> tuple[int, int]:
    """Discordant pairs: (A right & B wrong, A wrong & B right)."""
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    return int(np.sum(a & ~b)), int(np.sum(~a & b))


def mcnemar(n01: int, n10: int, method: str = "exact") -> float:
    """McNemar's test on the two discordant counts.

    ``exact``: two-sided binomial test of n01 ~ Bin(n01 + n10, 1/2), i.e.
    ``min(1, 2·P[X ≤ min(n01, n10)])``. ``chi2``: ``(|n01 − n10| − 1)² / (n01 + n10)``
    against χ² with 1 degree of freedom (Edwards' continuity correction).
    No discordant pairs gives p = 1.
    """
    n = n01 + n10
    if n == 0:
        return 1.0
    from scipy import stats

    if method == "exact":
        return float(min(1.0, 2.0 * stats.binom.cdf(min(n01, n10), n, 0.5)))
    if method == "chi2":
        stat = (abs(n01 - n10) - 1.0) ** 2 / n if abs(n01 - n10) >= 1 else 0.0
        return float(stats.chi2.sf(stat, 1))
    raise ValueError(f"unknown McNemar method {method!r}; use exact or chi2")


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (step-down, monotone); None entries are skipped."""
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    m = len(idx)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda j: pvalues[j])):  # type: ignore[arg-type,return-value]
        running = max(running, min(1.0, (m - rank) * float(pvalues[i])))  # type: ignore[arg-type]
        out[i] = running
    return out
