"""Convergence of a training run: how soon dev accuracy nears its best.

The sentiment-LS paper (Gao et al.) claims label smoothing converges faster.
Measured here per run from ``metrics.parquet``: the first epoch (and the
optimizer steps taken by its end) whose dev accuracy reaches a fraction f of
the best dev accuracy of any epoch of the run. Epochs count from the first,
CE warm-up epochs included, since they are training time too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

FRACTIONS = (0.95, 0.99)


def epochs_to_fraction(
    dev_accuracy: Sequence[float],
    steps: Sequence[int | None] | None = None,
    fractions: Sequence[float] = FRACTIONS,
) -> dict[str, Any]:
    """Epochs and steps until dev accuracy first reaches ``f`` × its best.

    Parameters
    ----------
    dev_accuracy : sequence of float, shape (E,)
        Dev accuracy after each of E epochs, in order.
    steps : sequence of int or None, shape (E,), optional
        Cumulative optimizer steps at the end of each epoch (``steps`` in
        ``metrics.parquet``); None where unknown.
    fractions : sequence of float
        Each f in (0, 1].

    Returns
    -------
    dict
        ``best_dev_accuracy``, ``epochs`` (E), and for each f (as a percentage
        p, e.g. 95): ``epochs_to_p`` and ``steps_to_p``.

    Examples
    --------
    The best is 0.9; 0.8 falls short of 95% of it (0.855), 0.9 reaches it:

    >>> r = epochs_to_fraction([0.5, 0.8, 0.9, 0.88], [10, 20, 30, 40])
    >>> r["epochs_to_95"], r["steps_to_95"]
    (3, 30)
    """
    if not dev_accuracy:
        raise ValueError("dev_accuracy is empty: the run has no finished epoch")
    best = max(dev_accuracy)
    out: dict[str, Any] = {"best_dev_accuracy": best, "epochs": len(dev_accuracy)}
    for f in fractions:
        if not 0 < f <= 1:
            raise ValueError(f"fraction {f} must be in (0, 1]")
        # A tolerance so that f = 1 finds the best epoch despite float rounding.
        i = next(i for i, a in enumerate(dev_accuracy) if a >= f * best - 1e-12)
        key = f"{round(100 * f):d}"
        out[f"epochs_to_{key}"] = i + 1
        out[f"steps_to_{key}"] = None if steps is None else steps[i]
    return out


def run_convergence(run_dir: str, fractions: Sequence[float] = FRACTIONS) -> dict[str, Any] | None:
    """:func:`epochs_to_fraction` of a run directory's ``metrics.parquet`` (None if absent)."""
    import pyarrow.parquet as pq

    path = os.path.join(run_dir, "metrics.parquet")
    if not os.path.exists(path):
        return None
    table = pq.read_table(path)
    acc = table.column("dev_accuracy").to_pylist()
    steps = table.column("steps").to_pylist() if "steps" in table.column_names else None
    if not acc:
        return None
    return epochs_to_fraction(acc, steps, fractions)
