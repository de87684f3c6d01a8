"""Negative/generalized label smoothing (Wei et al. 2022); METHODS.md §1.

The target is the uniform ``k``-convention formula with a rate r < 1 that may
be negative, so off-target entries can be below zero (rows still sum to 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lsctl.params import Param
from lsctl.smoothing.base import Context, Method
from lsctl.smoothing.uniform import uniform_targets
from lsctl.validation import ParameterError


class NLS(Method):
    name = "nls"
    help = "uniform formula (k convention) with --rate r < 1, negative allowed"
    options = (
        Param(
            "rate",
            float,
            None,
            "rate r < 1; negative gives negative smoothing.",
            high=1,
            high_open=True,
            hint="(e.g. {rate:v=-0.2} or {rate:v=0.4})",
        ),
    )

    def validate(self, params: dict[str, Any]) -> None:
        rate = params.get("rate")
        if rate is None:
            raise ParameterError(
                "{method} needs {rate:n} (below 1; negative for NLS, e.g. {rate:v=-0.2})",
                method="nls",
                rate=None,
            )
        super().validate(params)

    def targets(self, ctx: Context, batch: Any, start: int) -> np.ndarray:
        return uniform_targets(ctx.label_indices(batch), len(ctx.labels), ctx.params["rate"], "k")
