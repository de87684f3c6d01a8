"""The training losses of METHODS.md §2.

``soft`` is written out rather than delegated to
``F.cross_entropy(label_smoothing=…)``: torch silently ignores negative
smoothing rates, which is exactly what NLS needs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def ce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """mean_i −log o_i[y_i]."""
    return F.cross_entropy(logits, y)


def soft(logits: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """mean_i −Σ_k d_ik log o_ik; valid for negative d (NLS), so unbounded below then."""
    return -(d * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def aux(logits: torch.Tensor, y: torch.Tensor, d: torch.Tensor, alpha: float) -> torch.Tensor:
    """KWLS eq. 9 as the authors' code has it: [CE + α·mean_{i,k}(d−o)²] / (1+α)²."""
    return aux_head(logits, logits, y, d, alpha)


def aux_head(
    logits: torch.Tensor, aux_logits: torch.Tensor, y: torch.Tensor, d: torch.Tensor, alpha: float
) -> torch.Tensor:
    """As ``aux``, with the squared error on a second head's softmax."""
    mse = (d - F.softmax(aux_logits, dim=1)).pow(2).mean()
    return (ce(logits, y) + alpha * mse) / (1.0 + alpha) ** 2


def ols(logits: torch.Tensor, y: torch.Tensor, s_rows: torch.Tensor, alpha: float) -> torch.Tensor:
    """Online Label Smoothing: α·CE(y, p) + (1−α)·CE(S[y], p), with ``s_rows`` = S[y].

    Parameters
    ----------
    logits : Tensor, shape (B, K)
    y : Tensor of int, shape (B,)
    s_rows : Tensor, shape (B, K)
        The batch's rows of the OLS matrix (``lsctl.train.ols``).
    alpha : float
        Weight of the hard-label cross-entropy, in [0, 1].
    """
    return alpha * ce(logits, y) + (1.0 - alpha) * soft(logits, s_rows)


def compute(
    name: str,
    logits: torch.Tensor,
    aux_logits: torch.Tensor | None,
    y: torch.Tensor,
    d: torch.Tensor | None,
    alpha: float,
) -> torch.Tensor:
    """The loss ``name`` for one batch; losses are computed in fp32 even under bf16."""
    logits = logits.float()
    if name == "ce":
        return ce(logits, y) if d is None else soft(logits, d)
    if name == "soft":
        return soft(logits, d)
    if name == "aux":
        return aux(logits, y, d, alpha)
    if name == "aux-head":
        return aux_head(logits, aux_logits.float(), y, d, alpha)
    if name == "ols":
        return ols(logits, y, d, alpha)
    raise ValueError(f"unknown loss {name!r}")


def runaway_floor(targets) -> float | None:
    """A loss below this means some probability under a negative target fell below e^-50.

    With negative d the soft loss is −Σ_{d>0} d log o (≥ 0) plus Σ_{d<0} |d| log o;
    it can only drop below −50·max_i Σ_{d<0}|d| when log o < −50 somewhere, i.e.
    the logits have saturated and the NLS run has run away.
    """
    if targets is None:
        return None
    neg = (-targets.clip(max=0)).sum(axis=1).max()
    return -50.0 * float(neg) if neg > 0 else None
