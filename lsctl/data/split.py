"""Stratified, seeded train/dev/test splits (NumPy only, so ``lsctl data`` stays light)."""

from __future__ import annotations

import numpy as np

from lsctl.errors import LsctlError
from lsctl.validation import check_seed

SPLITS = ("train", "dev", "test")


def check_fractions(dev: float, test: float) -> None:
    from lsctl.validation import ParameterError, check_range

    for name, f in (("dev", dev), ("test", test)):
        check_range(name, f, low=0, high=1, high_open=True, hint=f"(e.g. {{{name}:v=0.1}})")
    if dev + test >= 1.0:
        raise ParameterError(
            "{dev} + {test} leave nothing for training; make them sum below 1", dev=dev, test=test
        )


def allocate(n: int, fractions: np.ndarray) -> np.ndarray:
    """Rows per split for one class of ``n`` rows: each within 1 of ``n·f``, summing to ``n``.

    Largest remainders get the leftover rows (ties go to the earlier split).
    Train keeps at least one row so every class can still be learned.
    """
    exact = n * fractions
    counts = np.floor(exact).astype(np.int64)
    left = n - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:left]] += 1
    if n and counts[0] == 0:
        # Take the row from the held-out split that got most above its share.
        over = np.where(counts > 0, counts - exact, -np.inf)
        counts[int(np.argmax(over))] -= 1
        counts[0] = 1
    return counts


def stratified_split(
    y: np.ndarray, labels: list[str], dev: float, test: float, seed: int
) -> dict[str, np.ndarray]:
    """Sorted row indices per split; splits with fraction 0 are left out.

    Each class is shuffled by its own generator seeded with (seed, class index),
    so a class's assignment depends only on the seed and its own rows.
    """
    check_fractions(dev, test)
    check_seed(seed)
    fractions = np.array([1.0 - dev - test, dev, test])
    held_out = [s for s, f in zip(SPLITS[1:], fractions[1:], strict=True) if f > 0]
    k = len(labels)
    counts = np.bincount(y, minlength=k)
    if not len(y):
        raise LsctlError("no rows to split")
    if held_out:
        present = np.flatnonzero(counts)
        if present.size < 2:
            only = labels[int(present[0])] if present.size else "none"
            raise LsctlError(
                f"only one class present ({only}); a stratified {'/'.join(held_out)} split "
                "needs at least 2 classes"
            )
        small = [labels[c] for c in present if counts[c] < 2]
        if small:
            raise LsctlError(
                f"class {small[0]!r} has only 1 row ({len(small)} such classes); a stratified "
                "split needs at least 2 rows per class; drop or merge those classes first"
            )
    parts: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    for c in range(k):
        rows = np.flatnonzero(y == c)
        if rows.size == 0:
            continue
        rows = np.random.default_rng([seed, c]).permutation(rows)
        bounds = np.cumsum(allocate(rows.size, fractions))
        for s, chunk in zip(SPLITS, np.split(rows, bounds[:-1]), strict=True):
            parts[s].append(chunk)
    out = {}
    for s, f in zip(SPLITS, fractions, strict=True):
        if s == "train" or f > 0:
            out[s] = np.sort(np.concatenate(parts[s])) if parts[s] else np.zeros(0, np.int64)
    return out
