"""Class imbalance by under-sampling (KWLS paper §5.5–5.6; METHODS.md §3).

``--ratio L=r`` keeps round-half-up(r·n_L) rows of class L (at least one), as in the
paper's 1:100 setting; ``--cap L=m`` keeps at most m rows (m ∈ {300, …, 1} in
§5.6). Only the training data is meant to be sampled: the test set stays balanced.
"""

from __future__ import annotations

import numbers

import numpy as np

from lsctl.errors import LsctlError
from lsctl.validation import ParameterError, check_seed

# ``--cap '*=M'`` / ``cap={"*": M}``: every label not named on its own.
ALL_LABELS = "*"


def expand_all_labels(limits: dict, labels: list) -> dict:
    """``limits`` with the :data:`ALL_LABELS` entry spelled out for each label not named.

    >>> expand_all_labels({"*": 50, "b": 10}, ["a", "b", "c"])
    {'a': 50, 'c': 50, 'b': 10}
    """
    if ALL_LABELS not in limits:
        return dict(limits)
    rest = {lab: limits[ALL_LABELS] for lab in labels if lab not in limits}
    return {**rest, **{lab: v for lab, v in limits.items() if lab != ALL_LABELS}}


class _Item:
    """One ``LABEL=VALUE`` entry: ``pos=0.5`` on the command line, ``{'pos': 0.5}`` in Python."""

    def __init__(self, label: str, value: float) -> None:
        self.label, self.value = label, value

    def __str__(self) -> str:
        return f"{self.label}={self.value}"

    def __repr__(self) -> str:
        return repr({self.label: self.value})


def check_ratio(label: str, ratio: float) -> None:
    number = isinstance(ratio, numbers.Real) and not isinstance(ratio, bool)
    if not number or not np.isfinite(ratio) or not 0.0 < ratio <= 1.0:
        raise ParameterError(
            f"{{ratio}}: the ratio must be in (0, 1], e.g. {label}=0.01 keeps 1%",
            ratio=_Item(label, ratio),
        )


def check_cap(label: str, cap: int) -> None:
    whole = isinstance(cap, (int, np.integer)) and not isinstance(cap, bool)
    if not whole:
        raise ParameterError("{cap}: the cap is a whole number of rows", cap=_Item(label, cap))
    if cap < 1:
        raise ParameterError("{cap}: the cap must be at least 1 row", cap=_Item(label, cap))


def kept_count(n: int, ratio: float | None, cap: int | None) -> int:
    """Rows kept from a class of ``n`` rows; both limits apply when both are given."""
    keep = n
    if ratio is not None:
        keep = max(1, int(np.floor(ratio * n + 0.5))) if n else 0
    if cap is not None:
        keep = min(keep, cap)
    return keep


def undersample(
    labels_idx: np.ndarray,
    k: int,
    ratios: dict[int, float],
    caps: dict[int, int],
    seed: int,
) -> np.ndarray:
    """Sorted indices of the rows to keep.

    Each sampled class draws from its own generator seeded with (seed, class),
    so adding a limit for one class never changes which rows another keeps.
    """
    check_seed(seed)
    labels_idx = np.asarray(labels_idx)
    for c in (*ratios, *caps):
        if not 0 <= c < k:
            raise LsctlError(f"class index {c} is outside 0..{k - 1}")
    for c, r in ratios.items():
        check_ratio(str(c), r)
    for c, m in caps.items():
        check_cap(str(c), m)
    keep = np.ones(labels_idx.size, dtype=bool)
    for c in sorted(set(ratios) | set(caps)):
        rows = np.flatnonzero(labels_idx == c)
        n_keep = kept_count(rows.size, ratios.get(c), caps.get(c))
        if n_keep < rows.size:
            rng = np.random.default_rng([seed, c])
            dropped = rng.choice(rows, size=rows.size - n_keep, replace=False)
            keep[dropped] = False
    return np.flatnonzero(keep)
