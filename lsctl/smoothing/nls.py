"""Negative/generalized label smoothing (Wei et al. 2022); METHODS.md §1.

The target is the uniform ``k``-convention formula with a rate r < 1 that may
be negative, so off-target entries can be below zero (rows still sum to 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lsctl.errors import UsageError
from lsctl.smoothing.base import Context, Method
from lsctl.smoothing.uniform import uniform_targets


class NLS(Method):
    name = "nls"
    help = "uniform formula (k convention) with --rate r < 1, negative allowed"
    param_names = ("rate",)

    def validate(self, params: dict[str, Any]) -> None:
        rate = params.get("rate")
        if rate is None:
            raise UsageError("--method nls needs --rate R (R < 1; negative for NLS, e.g. -0.2)")
        if not (rate < 1.0 and rate > float("-inf")):
            raise UsageError(f"--rate {rate} must be below 1 (e.g. --rate -0.2 or --rate 0.4)")

    def targets(self, ctx: Context, batch: Any, start: int) -> np.ndarray:
        return uniform_targets(ctx.label_indices(batch), len(ctx.labels), ctx.params["rate"], "k")
