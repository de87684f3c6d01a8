"""Systems ranked across datasets: average ranks, Friedman, Nemenyi and Holm–Wilcoxon.

The statistics of Demšar (2006), "Statistical comparisons of classifiers over
multiple data sets", JMLR 7:1–30, on a score matrix with one row per dataset
and one column per system. Every function takes plain arrays, so the same
numbers come out of ``lsctl rank`` and of a notebook.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# Critical values q_alpha of the two-tailed Nemenyi test for k = 2..10 systems:
# Demšar (2006), Table 5(a), the studentized range statistic divided by √2.
Q_ALPHA: dict[float, tuple[float, ...]] = {
    0.05: (1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164),
    0.10: (1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.780, 2.855, 2.920),
}
MAX_SYSTEMS = 2 + len(Q_ALPHA[0.05]) - 1


def _matrix(scores: Any) -> np.ndarray:
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"scores must be a 2-D array (datasets × systems), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("scores must be finite")
    return x


def average_ranks(scores: Any, lower_is_better: bool = False) -> np.ndarray:
    """Rank the systems within each dataset: 1 is best, ties get the mean of their ranks.

    Parameters
    ----------
    scores : array_like, shape (n_datasets, n_systems)
        One score per dataset and system (e.g. the mean accuracy over seeds).
    lower_is_better : bool
        True for losses (NLL, ECE): the lowest score gets rank 1.

    Scores equal to 12 decimal places count as tied.

    Returns
    -------
    ndarray, shape (n_datasets, n_systems)
        The rank of each system on each dataset; ``ranks.mean(axis=0)`` are the
        average ranks.

    Examples
    --------
    >>> average_ranks([[0.9, 0.8, 0.8], [0.7, 0.9, 0.6]]).tolist()
    [[1.0, 2.5, 2.5], [2.0, 1.0, 3.0]]
    """
    x = _matrix(scores)
    # Scores equal to 12 decimals are ties: one mean over seeds summed in
    # another order differs in the last bit, which must not decide a rank.
    key = np.round(x if lower_is_better else -x, 12)
    ranks = np.empty_like(x)
    for i, row in enumerate(key):
        order = np.argsort(row, kind="stable")
        sorted_row = row[order]
        # Runs of equal values share the mean of the positions they span.
        start = 0
        for end in range(1, len(row) + 1):
            if end == len(row) or sorted_row[end] != sorted_row[start]:
                ranks[i, order[start:end]] = (start + 1 + end) / 2.0
                start = end
    return ranks


@dataclass
class Friedman:
    """The Friedman test and its Iman–Davenport F form (see ``friedman``)."""

    n_datasets: int
    n_systems: int
    chi2: float
    p_chi2: float
    f: float
    df1: int
    df2: int
    p_f: float


def friedman(ranks: Any) -> Friedman:
    """Friedman's χ² on within-dataset ranks, and the Iman–Davenport F.

    χ²_F = 12N/(k(k+1)) · [Σ_j R_j² − k(k+1)²/4] with R_j the average ranks,
    divided by the tie correction 1 − Σ(t³ − t)/(N·k·(k²−1)) over groups of t
    tied systems (as ``scipy.stats.friedmanchisquare`` does; without ties it is
    1), against χ² with k−1 degrees of freedom. Iman and Davenport's
    F_F = (N−1)·χ²_F / (N(k−1) − χ²_F) against F(k−1, (k−1)(N−1)) is less
    conservative and is the one Demšar recommends.

    Parameters
    ----------
    ranks : array_like, shape (n_datasets, n_systems)
        Within-dataset ranks, as ``average_ranks`` returns; at least 2 × 2.

    Returns
    -------
    Friedman
        ``chi2``, ``p_chi2``, ``f``, ``df1``, ``df2``, ``p_f``. When every dataset
        ties every system, χ² is 0 and both p are 1; when all datasets agree
        perfectly, F is infinite and ``p_f`` is 0.

    Examples
    --------
    >>> r = average_ranks([[0.9, 0.8, 0.7], [0.8, 0.7, 0.9], [0.9, 0.6, 0.5]])
    >>> round(friedman(r).chi2, 4)
    2.0
    """
    from scipy import stats

    r = _matrix(ranks)
    n, k = r.shape
    if n < 2 or k < 2:
        raise ValueError(f"the Friedman test needs at least 2 datasets and 2 systems, got {n}×{k}")
    mean = r.mean(axis=0)
    ties = 0.0
    for row in r:
        _, counts = np.unique(row, return_counts=True)
        ties += float(np.sum(counts.astype(np.float64) ** 3 - counts))
    correction = 1.0 - ties / (n * k * (k * k - 1))
    raw = 12.0 * n / (k * (k + 1)) * (float(np.sum(mean**2)) - k * (k + 1) ** 2 / 4.0)
    chi2 = 0.0 if correction <= 0 else max(raw / correction, 0.0)
    p_chi2 = float(stats.chi2.sf(chi2, k - 1)) if chi2 > 0 else 1.0
    f, p_f = iman_davenport(chi2, n, k)
    df1, df2 = k - 1, (k - 1) * (n - 1)
    return Friedman(n, k, chi2, p_chi2, f, df1, df2, p_f)


def iman_davenport(chi2: float, n_datasets: int, n_systems: int) -> tuple[float, float]:
    """Iman and Davenport's F_F = (N−1)·χ²_F / (N(k−1) − χ²_F) and its p under F(k−1, (k−1)(N−1)).

    Parameters
    ----------
    chi2 : float
        Friedman's χ²_F.
    n_datasets, n_systems : int
        N and k.

    Returns
    -------
    f, p : float
        F is 0 (p = 1) for χ² = 0 and infinite when χ² reaches its maximum
        N(k−1), i.e. every dataset ranks the systems alike. The F
        distribution's p would then be 0, which no finite N supports: p is
        the exact chance of that under the null instead, k!·(1/k!)^N =
        (1/k!)^(N−1) (N datasets drawing the same of the k! rankings).

    Examples
    --------
    Demšar's example (N = 14, k = 4, χ²_F = 9.28):

    >>> round(iman_davenport(9.28, 14, 4)[0], 2)
    3.69

    Three datasets that rank two systems alike (χ² = 3, its maximum): the
    chance of that is 2·(1/2)³ = 0.25, not 0.

    >>> iman_davenport(3.0, 3, 2)
    (inf, 0.25)
    """
    from scipy import stats

    n, k = n_datasets, n_systems
    if chi2 <= 0:
        return 0.0, 1.0
    denom = n * (k - 1) - chi2
    if denom <= 1e-12 * n * k:
        return math.inf, float(math.factorial(k) ** -(n - 1))
    f = (n - 1) * chi2 / denom
    return f, float(stats.f.sf(f, k - 1, (k - 1) * (n - 1)))


def nemenyi_q(n_systems: int, alpha: float = 0.05) -> float:
    """q_alpha of the Nemenyi test from Demšar's Table 5(a).

    Parameters
    ----------
    n_systems : int
        k, from 2 to 10.
    alpha : float
        0.05 or 0.10.

    Examples
    --------
    >>> nemenyi_q(4, 0.05)
    2.569
    """
    table = Q_ALPHA.get(_alpha_key(alpha))
    if table is None:
        raise ValueError(f"alpha {alpha}: the Nemenyi table has 0.05 and 0.10")
    if not 2 <= n_systems <= MAX_SYSTEMS:
        raise ValueError(f"the Nemenyi table covers 2 to {MAX_SYSTEMS} systems, not {n_systems}")
    return table[n_systems - 2]


def _alpha_key(alpha: float) -> float | None:
    return next((a for a in Q_ALPHA if math.isclose(alpha, a, abs_tol=1e-12)), None)


def nemenyi_cd(n_systems: int, n_datasets: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference CD = q_alpha·√(k(k+1)/(6N)).

    Two systems differ significantly when their average ranks differ by at
    least CD.

    Parameters
    ----------
    n_systems : int
        k, from 2 to 10.
    n_datasets : int
        N, at least 1.
    alpha : float
        0.05 or 0.10.

    Examples
    --------
    Demšar's example (k = 4, N = 14):

    >>> round(nemenyi_cd(4, 14, 0.05), 2)
    1.25
    """
    if n_datasets < 1:
        raise ValueError("the critical difference needs at least one dataset")
    q = nemenyi_q(n_systems, alpha)
    return q * math.sqrt(n_systems * (n_systems + 1) / (6.0 * n_datasets))


def cd_groups(avg_ranks: Sequence[float], cd: float) -> list[list[int]]:
    """Groups of systems not significantly different: the bars of a CD diagram.

    Systems sorted by average rank; each group is a maximal run whose first and
    last ranks differ by less than ``cd``. Runs inside a longer run and single
    systems are left out.

    Parameters
    ----------
    avg_ranks : sequence of float, length n_systems
    cd : float
        The critical difference.

    Returns
    -------
    list of list of int
        Column indices of each group, best rank first, groups by their best rank.

    Examples
    --------
    >>> cd_groups([1.0, 1.5, 3.0, 3.2], 1.0)
    [[0, 1], [2, 3]]
    """
    r = np.asarray(avg_ranks, dtype=np.float64)
    order = [int(i) for i in np.argsort(r, kind="stable")]
    groups: list[list[int]] = []
    last_end = -1
    for a in range(len(order)):
        b = a
        while b + 1 < len(order) and r[order[b + 1]] - r[order[a]] < cd:
            b += 1
        # A run ending where the previous one ended lies inside it.
        if b > a and b > last_end:
            groups.append(order[a : b + 1])
            last_end = b
    return groups


def wilcoxon_holm(
    scores: Any,
    control: int | None = None,
    lower_is_better: bool = False,
) -> list[dict[str, Any]]:
    """Wilcoxon signed-rank over datasets per pair of systems, Holm-adjusted.

    Parameters
    ----------
    scores : array_like, shape (n_datasets, n_systems)
    control : int, optional
        Column compared with every other; default all pairs (i < j).
    lower_is_better : bool
        Decides ``wins`` and ``losses``.

    Returns
    -------
    list of dict
        One per pair with ``system`` and ``vs`` (column indices), ``delta``
        (mean of system − vs over datasets), ``wins``, ``ties``, ``losses``
        (datasets where ``system`` is better, equal, worse), ``signed_rank`` (the
        sum of signed ranks of the non-zero differences, positive when ``system``
        is better), ``p`` (two-sided,
        ``scipy.stats.wilcoxon`` defaults; None when every difference is 0)
        and ``p_holm`` (Holm over all pairs listed).

    Examples
    --------
    >>> s = [[0.9, 0.8], [0.8, 0.7], [0.7, 0.75], [0.95, 0.9], [0.6, 0.5], [0.85, 0.8]]
    >>> row = wilcoxon_holm(s)[0]
    >>> (row["system"], row["vs"], row["wins"], row["losses"])
    (1, 0, 1, 5)
    """
    from lsctl.stats.hypothesis import holm, wilcoxon

    x = _matrix(scores)
    k = x.shape[1]
    if control is None:
        pairs = [(j, i) for i in range(k) for j in range(i + 1, k)]
    else:
        if not 0 <= control < k:
            raise ValueError(f"control {control} is not a column of {k} systems")
        pairs = [(i, control) for i in range(k) if i != control]
    rows = []
    for a, b in pairs:
        # Rounded as ``average_ranks`` rounds: last-bit differences are ties.
        d = np.round(x[:, a] - x[:, b], 12)
        better = d < 0 if lower_is_better else d > 0
        worse = d > 0 if lower_is_better else d < 0
        # Direction as the test sees it: the sum of signed ranks of |d| (zeros
        # dropped), signed so that positive means ``system`` is better.
        nz = d[d != 0]
        signed = 0.0
        if len(nz):
            r = average_ranks(np.abs(nz)[None, :], lower_is_better=True)[0]
            signed = float(np.sum(np.sign(nz) * r)) * (-1.0 if lower_is_better else 1.0)
        rows.append(
            {
                "system": a,
                "vs": b,
                "delta": float(d.mean()),
                "signed_rank": signed,
                "wins": int(better.sum()),
                "ties": int((d == 0).sum()),
                "losses": int(worse.sum()),
                "p": wilcoxon(d.tolist(), [0.0] * len(d)),
            }
        )
    for row, p in zip(rows, holm([r["p"] for r in rows]), strict=True):
        row["p_holm"] = p
    return rows


@dataclass
class Ranking:
    """Everything ``rank`` computes, with system and dataset names (see ``rank``)."""

    systems: list[str]
    datasets: list[str]
    scores: list[list[float]]
    ranks: list[list[float]]
    average_ranks: list[float]
    lower_is_better: bool
    friedman: Friedman
    alpha: float
    q_alpha: float
    cd: float
    groups: list[list[str]]
    wilcoxon: list[dict[str, Any]]
    control: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (the Friedman result as a nested dict)."""
        return asdict(self)


def rank(
    scores: Any,
    systems: Sequence[str],
    datasets: Sequence[str],
    lower_is_better: bool = False,
    alpha: float = 0.05,
    control: str | None = None,
) -> Ranking:
    """Average ranks, Friedman/Iman–Davenport, Nemenyi CD and Holm–Wilcoxon in one call.

    Parameters
    ----------
    scores : array_like, shape (n_datasets, n_systems)
        One score per dataset (row) and system (column).
    systems : sequence of str, length n_systems
    datasets : sequence of str, length n_datasets
    lower_is_better : bool
        True for losses (NLL, ECE).
    alpha : float
        0.05 or 0.10: the Nemenyi level and the Holm–Wilcoxon level.
    control : str, optional
        Compare every system with this one (Wilcoxon); default all pairs.

    Returns
    -------
    Ranking

    Examples
    --------
    >>> r = rank([[0.9, 0.8, 0.7], [0.8, 0.7, 0.9], [0.9, 0.6, 0.5]], ["a", "b", "c"],
    ...          ["d1", "d2", "d3"])
    >>> r.average_ranks
    [1.3333333333333333, 2.3333333333333335, 2.3333333333333335]
    """
    x = _matrix(scores)
    n, k = x.shape
    if len(systems) != k or len(datasets) != n:
        raise ValueError(
            f"scores are {n}×{k} but {len(datasets)} dataset and {len(systems)} system names given"
        )
    if n < 2 or k < 2:
        raise ValueError(f"ranking needs at least 2 datasets and 2 systems, got {n} and {k}")
    ranks = average_ranks(x, lower_is_better)
    avg = ranks.mean(axis=0)
    q = nemenyi_q(k, alpha)
    cd = nemenyi_cd(k, n, alpha)
    ctrl = None
    if control is not None:
        if control not in systems:
            raise ValueError(f"control {control!r} is not one of the systems {list(systems)}")
        ctrl = list(systems).index(control)
    pairs = wilcoxon_holm(x, ctrl, lower_is_better)
    for row in pairs:
        row["system"], row["vs"] = systems[row["system"]], systems[row["vs"]]
        row["verdict"] = _verdict(row, alpha)
    return Ranking(
        systems=list(systems),
        datasets=list(datasets),
        scores=x.tolist(),
        ranks=ranks.tolist(),
        average_ranks=avg.tolist(),
        lower_is_better=lower_is_better,
        friedman=friedman(ranks),
        alpha=float(alpha),
        q_alpha=q,
        cd=cd,
        groups=[[systems[i] for i in g] for g in cd_groups(avg, cd)],
        wilcoxon=pairs,
        control=control,
    )


def _verdict(row: dict[str, Any], alpha: float) -> str:
    p = row["p_holm"]
    if p is None or p >= alpha or row["signed_rank"] == 0:
        return "no difference"
    return "better" if row["signed_rank"] > 0 else "worse"
