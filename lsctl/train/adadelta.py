"""Adadelta that updates only the embedding rows a batch touched, bit for bit torch's.

Kim's recipe (``--preset kim2014``) trains a 300-wide embedding table with
Adadelta. torch's step reads and writes the whole table and its two state
tensors (about ten passes over ``vocab x 300`` floats, plus two temporaries of
that size) although a batch touches a few thousand rows. On 2 CPU cores that
was a quarter of a TextCNN step on 20 Newsgroups.

For a row whose gradient is zero, Adadelta's update reduces to exact
operations: ``square_avg*rho + (1-rho)*0*0`` is ``square_avg*rho`` in floating
point, the step ``sqrt(acc+eps)/sqrt(sq+eps) * 0`` is zero and leaves the
weight as it was, and ``acc_delta`` likewise becomes ``acc_delta*rho``. So
those rows only need the two decays (one in-place pass each), and the full
formula runs on the gathered non-zero rows, with the same operations in the
same order as ``torch.optim.Adadelta`` (its single-tensor CPU path). Weights,
state and ``state_dict`` equal torch's exactly; a checkpoint loads in either.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class RowSparseAdadelta(torch.optim.Adadelta):
    """``torch.optim.Adadelta`` with a row-sparse step for embedding tables.

    Parameters
    ----------
    params : iterable of Tensor or dict
        As for ``torch.optim.Adadelta``.
    row_sparse : iterable of Tensor
        2-D parameters, shape ``(rows, dim)``, whose gradient is zero outside
        the rows a batch used (``nn.Embedding`` weights with dense gradients).
        They take the row-sparse step on CPU when the group has no weight
        decay and does not maximize; otherwise torch's step, unchanged.
    **kwargs
        ``lr``, ``rho``, ``eps``, ``weight_decay`` as for torch's Adadelta.

    Examples
    --------
    >>> emb, head = torch.nn.Embedding(100, 8), torch.nn.Linear(8, 2)
    >>> opt = RowSparseAdadelta(
    ...     [*emb.parameters(), *head.parameters()], row_sparse=[emb.weight], lr=1.0
    ... )
    >>> head(emb(torch.tensor([[1, 5]])).mean(1)).sum().backward()
    >>> opt.step()
    """

    def __init__(self, params, row_sparse: Iterable[torch.Tensor], **kwargs) -> None:
        # One tensor at a time: the rows path reproduces that kernel sequence.
        super().__init__(params, foreach=False, **kwargs)
        self._row_sparse = {id(p) for p in row_sparse}

    def _rows_eligible(self, p: torch.Tensor, group: dict) -> bool:
        return (
            id(p) in self._row_sparse
            and p.grad is not None
            and not p.grad.is_sparse
            and p.dim() == 2
            and p.device.type == "cpu"
            and not group["weight_decay"]
            and not group["maximize"]
            and not group["differentiable"]
            and not group["capturable"]
        )

    @torch.no_grad()
    def step(self, closure=None):
        if closure is not None:
            raise ValueError("RowSparseAdadelta does not take a closure")
        rowwise = [
            (p, group) for group in self.param_groups for p in group["params"]
            if self._rows_eligible(p, group)
        ]  # fmt: skip
        grads = [p.grad for p, _ in rowwise]
        for p, _ in rowwise:  # hidden from torch's dense step
            p.grad = None
        try:
            super().step()
        finally:
            for (p, _), g in zip(rowwise, grads, strict=True):
                p.grad = g
        for (p, group), g in zip(rowwise, grads, strict=True):
            self._row_step(p, g, group)

    def _row_step(self, p: torch.Tensor, grad: torch.Tensor, group: dict) -> None:
        state = self.state[p]
        if not state:  # as torch's _init_group
            state["step"] = torch.zeros((), dtype=torch.get_default_dtype())
            state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["acc_delta"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["step"] += 1
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        lr = lr.item() if isinstance(lr, torch.Tensor) else lr
        rows = grad.any(dim=1).nonzero().squeeze(1)
        sq, acc, g = square_avg[rows], acc_delta[rows], grad[rows]
        square_avg.mul_(rho)
        acc_delta.mul_(rho)
        # torch's formula, on the touched rows only.
        sq.mul_(rho).addcmul_(g, g, value=1 - rho)
        std = sq.add(eps).sqrt_()
        delta = acc.add(eps).sqrt_()
        delta.div_(std).mul_(g)
        acc.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        square_avg[rows] = sq
        acc_delta[rows] = acc
        p[rows] = p[rows].add_(delta, alpha=-lr)
