"""Uniform label smoothing (LS-Classic, Szegedy et al. 2016); METHODS.md §1.

``uniform_targets`` is the one place the formula lives: NLS and the uniform
method both call it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lsctl.errors import LsctlError
from lsctl.params import Param
from lsctl.smoothing.base import Context, Method
from lsctl.validation import check_choice

CONVENTIONS = ("k", "k-1", "per-class")


def uniform_targets(y: np.ndarray, k: int, epsilon: float, convention: str = "k") -> np.ndarray:
    """N×K float64 targets for hard labels ``y`` (indices in [0, k)).

    - ``k``: true class 1-ε+ε/K, others ε/K (torch ``label_smoothing``);
    - ``k-1``: true class 1-ε, others ε/(K-1) (fairseq);
    - ``per-class``: ε is λ, the mass of each other class: true class 1-(K-1)λ.

    No range check here: NLS feeds negative rates through the ``k`` branch.
    """
    y = np.asarray(y, dtype=np.int64)
    if convention == "k":
        off, on = epsilon / k, 1.0 - epsilon + epsilon / k
    elif convention == "k-1":
        if k < 2:
            raise LsctlError("--convention k-1 needs at least 2 labels")
        off, on = epsilon / (k - 1), 1.0 - epsilon
    elif convention == "per-class":
        off, on = epsilon, 1.0 - (k - 1) * epsilon
    else:
        check_choice("convention", convention, CONVENTIONS)
    out = np.full((len(y), k), off, dtype=np.float64)
    out[np.arange(len(y)), y] = on
    return out


class Uniform(Method):
    name = "uniform"
    help = "(1-ε)·onehot + ε spread evenly; --epsilon, --convention k|k-1|per-class"
    options = (
        Param(
            "epsilon",
            float,
            0.1,
            "smoothing ε in [0, 1).",
            low=0,
            high=1,
            high_open=True,
            hint="(e.g. {epsilon:v=0.1})",
        ),
        Param(
            "convention",
            str,
            "k",
            "k (torch), k-1 (fairseq) or per-class (ε is λ).",
            choices=CONVENTIONS,
        ),
    )

    def prepare(self, ctx: Context) -> None:
        conv = ctx.params.get("convention", "k")
        eps = ctx.params.get("epsilon", 0.1)
        k = len(ctx.require_labels())
        # per-class λ is the k convention with ε = Kλ; the same bound keeps the
        # gold class the most probable one.
        if conv == "per-class" and eps * k >= 1.0:
            raise LsctlError(
                f"--epsilon {eps} with --convention per-class and {k} labels gives the gold "
                f"class {1 - (k - 1) * eps:.3g}; use λ < 1/K = {1 / k:.3g}"
            )

    def targets(self, ctx: Context, batch: Any, start: int) -> np.ndarray:
        return uniform_targets(
            ctx.label_indices(batch),
            len(ctx.labels),
            ctx.params.get("epsilon", 0.1),
            ctx.params.get("convention", "k"),
        )
