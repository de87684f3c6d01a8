"""Gradient-norm clipping (``--grad-clip``) that also takes sparse gradients.

fastText's embedding tables get sparse gradients (``nn.Embedding(sparse=True)``);
``torch.nn.utils.clip_grad_norm_`` cannot take their norm. Dense-only models
keep torch's function, so their steps are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


def clip_grad_norm_(params: Iterable[torch.nn.Parameter], max_norm: float) -> torch.Tensor:
    """Scale all gradients so that their joint L2 norm is at most ``max_norm``.

    The same rule as ``torch.nn.utils.clip_grad_norm_`` (coefficient
    ``max_norm / (norm + 1e-6)``, capped at 1). A sparse gradient is
    coalesced first, so repeated rows are summed before the norm, as in the
    dense gradient it stands for.

    Parameters
    ----------
    params : iterable of Parameter
        Their ``.grad`` (dense, or sparse COO of the parameter's shape) is
        scaled in place; a sparse one is replaced by its coalesced form.
    max_norm : float
        The largest joint norm allowed, > 0.

    Returns
    -------
    Tensor, shape ()
        The joint norm before clipping.

    Examples
    --------
    >>> emb = torch.nn.Embedding(4, 2, sparse=True)
    >>> emb(torch.tensor([1, 1, 2])).sum().backward()
    >>> round(float(clip_grad_norm_(emb.parameters(), 1.0)) ** 2, 4)  # rows (2, 2), (1, 1)
    10.0
    >>> round(float(emb.weight.grad.to_dense().norm()), 4)
    1.0
    """
    params = [p for p in params if p.grad is not None]
    if not any(p.grad.is_sparse for p in params):
        return torch.nn.utils.clip_grad_norm_(params, max_norm)
    for p in params:
        if p.grad.is_sparse:
            p.grad = p.grad.coalesce()
    norms = [
        torch.linalg.vector_norm(p.grad.values() if p.grad.is_sparse else p.grad) for p in params
    ]
    total = torch.linalg.vector_norm(torch.stack(norms))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for p in params:
        if p.grad.is_sparse:
            p.grad.values().mul_(coef)
        else:
            p.grad.mul_(coef)
    return total
