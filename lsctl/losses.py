"""Soft-label losses for your own training loop, and for Hugging Face ``Trainer`` (torch).

``import lsctl.losses`` imports torch; ``import lsctl`` does not. The
formulas are those ``lsctl train`` uses (:mod:`lsctl.train.losses`, METHODS.md
§2) and the uniform targets are :func:`lsctl.smoothing.uniform.uniform_targets`:
this module only adapts them to tensors.

Hugging Face ``Trainer``::

    from lsctl.losses import SoftLabelCollator, soft_label_loss

    trainer = Trainer(
        model=model,
        args=TrainingArguments(..., remove_unused_columns=False),
        train_dataset=rows,              # dicts with "text" and "soft_label"
        data_collator=SoftLabelCollator(tokenizer),
        compute_loss_func=soft_label_loss(),
    )

The collator tokenizes ``text`` and puts the ``soft_label`` vectors in the
batch's ``labels`` (for ``loss="aux"`` the gold label index first, then the
vector); ``soft_label_loss`` reads them back. ``remove_unused_columns=False``
keeps the ``soft_label`` column, which the model's ``forward`` does not take.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from lsctl.train import losses as _core
from lsctl.validation import ParameterError, check_choice, check_range, literal

LOSSES = ("soft", "aux")

__all__ = [
    "SoftLabelCollator",
    "kwls_aux_loss",
    "smoothed_targets",
    "soft_cross_entropy",
    "soft_label_loss",
]


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy against soft targets: mean_i −Σ_k d_ik log softmax(z_i)_k.

    Parameters
    ----------
    logits : Tensor, shape (N, K)
    targets : Tensor, shape (N, K)
        Rows sum to 1; negative entries are allowed (negative label
        smoothing), unlike ``F.cross_entropy(label_smoothing=…)``.

    Returns
    -------
    Tensor, shape ()
        Computed in float32.

    Examples
    --------
    Equal logits put 1/2 on each class, so any target row costs ln 2:

    >>> import math, torch
    >>> from lsctl.losses import soft_cross_entropy
    >>> loss = soft_cross_entropy(torch.zeros(1, 2), torch.tensor([[0.9, 0.1]]))
    >>> round(loss.item(), 4), round(math.log(2), 4)
    (0.6931, 0.6931)
    """
    logits, targets = _tensor("logits", logits), _tensor("targets", targets)
    _check_shapes(logits, targets)
    return _core.soft(logits.float(), targets.to(logits.device, torch.float32))


def kwls_aux_loss(
    logits: torch.Tensor, labels: torch.Tensor, targets: torch.Tensor, alpha: float = 1.0
) -> torch.Tensor:
    """The KWLS loss (eq. 9, as the authors' code): [CE + α·mean_{i,k}(d − softmax(z))²] / (1+α)².

    Parameters
    ----------
    logits : Tensor, shape (N, K)
    labels : Tensor of int, shape (N,)
        Gold label indices.
    targets : Tensor, shape (N, K)
        The KWLS soft labels d.
    alpha : float ≥ 0
        Weight of the squared error.

    Returns
    -------
    Tensor, shape ()
        Computed in float32.

    Examples
    --------
    Equal logits, gold 0, targets (1, 0), α = 1: CE is ln 2 and the squared
    error is mean(0.5², 0.5²) = 0.25, so the loss is (ln 2 + 0.25) / 4.

    >>> import math, torch
    >>> from lsctl.losses import kwls_aux_loss
    >>> loss = kwls_aux_loss(torch.zeros(1, 2), torch.tensor([0]), torch.tensor([[1.0, 0.0]]))
    >>> round(loss.item(), 4), round((math.log(2) + 0.25) / 4, 4)
    (0.2358, 0.2358)
    """
    check_range("alpha", alpha, low=0)
    logits, targets = _tensor("logits", logits), _tensor("targets", targets)
    _check_shapes(logits, targets)
    y = _label_indices(labels, logits.shape[1], len(logits))
    return _core.aux(
        logits.float(),
        y.to(logits.device),
        targets.to(logits.device, torch.float32),
        alpha,
    )


def smoothed_targets(
    labels: torch.Tensor | Sequence[int], num_classes: int, rate: float, convention: str = "k"
) -> torch.Tensor:
    """Uniform label-smoothing targets for hard labels.

    Parameters
    ----------
    labels : Tensor or sequence of int, shape (N,)
        Label indices in [0, num_classes).
    num_classes : int
    rate : float
        ε. Convention ``k`` takes any rate below 1, negative included (NLS);
        the others take [0, 1).
    convention : {"k", "k-1", "per-class"}
        ``k``: gold 1−ε+ε/K, others ε/K (torch); ``k-1``: gold 1−ε, others
        ε/(K−1) (fairseq); ``per-class``: each other class ε.

    Returns
    -------
    Tensor, shape (N, num_classes), float32, on ``labels``' device.

    Examples
    --------
    K = 3, ε = 0.3: gold 1 − 0.3 + 0.1 = 0.8, the others 0.1.

    >>> import torch
    >>> from lsctl.losses import smoothed_targets
    >>> smoothed_targets(torch.tensor([0, 2]), 3, 0.3)
    tensor([[0.8000, 0.1000, 0.1000],
            [0.1000, 0.1000, 0.8000]])
    """
    from lsctl.smoothing.uniform import CONVENTIONS, uniform_targets

    check_choice("convention", convention, CONVENTIONS)
    check_range("num_classes", num_classes, low=1, whole=True)
    check_range("rate", rate, low=None if convention == "k" else 0, high=1, high_open=True)
    device = labels.device if isinstance(labels, torch.Tensor) else None
    # Targets are made on the CPU anyway, so every label is checked here.
    given = labels.detach().cpu().numpy() if device is not None else labels
    y = _label_indices(given, int(num_classes)).numpy()
    out = torch.from_numpy(uniform_targets(y, int(num_classes), float(rate), convention))
    return out.to(device or "cpu", torch.float32)


def _tensor(name: str, value: Any) -> torch.Tensor:
    """``value`` as a tensor (NumPy arrays and nested lists too); a clear error otherwise."""
    if isinstance(value, torch.Tensor):
        return value
    try:
        return torch.as_tensor(np.asarray(value, dtype=np.float32))
    except (TypeError, ValueError):
        raise ParameterError(
            f"{{{name}:n}} must be a tensor or an array of numbers, not {type(value).__name__}",
            **{name: None},
        ) from None


def _label_indices(labels: Any, k: int, n: int | None = None) -> torch.Tensor:
    """``labels`` as an int64 tensor of N indices in [0, k); a clear error otherwise.

    A tensor is taken as it is, on its device (a loss runs every step, and
    checking its values would copy them to the CPU and wait for the GPU); only
    its shape is checked. Lists and arrays are checked in full.
    """
    if isinstance(labels, torch.Tensor):
        if labels.dim() != 1 or (n is not None and len(labels) != n):
            raise ParameterError(
                f"{{labels:n}} must be N={n if n is not None else 'N'} class indices, not a "
                f"tensor of shape {tuple(labels.shape)}; for one-hot rows pass their argmax",
                labels=None,
            )
        return labels.long()
    try:
        y = np.asarray(labels)
    except (TypeError, ValueError):
        y = np.asarray([], dtype=object)
    if y.ndim != 1:
        problem = f"an array of shape {y.shape}; for one-hot rows pass their argmax"
    elif y.size and y.dtype.kind not in "iuf":
        problem = f"{type(y.flat[0].item()).__name__} values"
    elif y.dtype.kind == "f" and not np.array_equal(y, np.round(y)):
        problem = f"{y[y != np.round(y)][0]:g}"
    else:
        problem = None
    if problem:
        raise ParameterError(
            f"{{labels:n}} must be N class indices (whole numbers), not {problem}", labels=None
        )
    y = y.astype(np.int64)
    if n is not None and len(y) != n:
        raise ParameterError(
            f"{{labels:n}} has {len(y)} entries for {n} rows of {{logits:n}}",
            labels=None,
            logits=None,
        )
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ParameterError(
            f"{{labels:n}} holds {int(y.min() if y.min() < 0 else y.max())}, outside "
            f"[0, {k}) for {k} classes",
            labels=None,
        )
    return torch.from_numpy(y)


def _check_shapes(logits: torch.Tensor, targets: torch.Tensor) -> None:
    if logits.dim() != 2:
        raise ParameterError(
            f"{{logits:n}} must be (N, K): one row of K class scores per example, not shape "
            f"{tuple(logits.shape)}",
            logits=None,
        )
    if tuple(targets.shape) != tuple(logits.shape):
        raise ParameterError(
            f"{{targets:n}} has shape {tuple(targets.shape)}; it must match {{logits:n}}, "
            f"shape {tuple(logits.shape)} (N, K)",
            targets=None,
            logits=None,
        )


# ---------------------------------------------------------------------------
# Hugging Face Trainer


def soft_label_loss(loss: str = "soft", alpha: float = 1.0) -> Callable[..., torch.Tensor]:
    """A loss for ``Trainer(compute_loss_func=…)`` over :class:`SoftLabelCollator` batches.

    Parameters
    ----------
    loss : {"soft", "aux"}
        ``soft``: :func:`soft_cross_entropy`; ``aux``: :func:`kwls_aux_loss`.
    alpha : float
        ``aux`` only: the weight of the squared error.

    Returns
    -------
    callable ``(outputs, labels, num_items_in_batch=None) -> Tensor``
        ``labels`` is the collator's: (B, K) soft labels, or for ``aux``
        (B, 1+K) with the gold index first. Under gradient accumulation the
        Trainer passes ``num_items_in_batch`` (it counts B·width entries over
        the accumulated batches); the loss is then the batch's sum over the
        accumulated number of examples, so accumulated steps add up to the mean.

    Examples
    --------
    The Trainer hands the model's outputs (a dict, a tuple or the logits) and
    the collator's ``labels``:

    >>> import torch
    >>> from lsctl.losses import soft_label_loss
    >>> compute_loss = soft_label_loss()
    >>> compute_loss({"logits": torch.zeros(1, 2)}, torch.tensor([[0.9, 0.1]]))
    tensor(0.6931)
    """
    check_choice("loss", loss, LOSSES)
    check_range("alpha", alpha, low=0)

    def compute_loss(outputs: Any, labels: torch.Tensor, num_items_in_batch: Any = None):
        if isinstance(outputs, torch.Tensor):
            logits = outputs  # the logits themselves
        elif isinstance(outputs, dict) or hasattr(outputs, "keys"):
            logits = outputs["logits"]
        else:
            logits = outputs[0]  # a tuple whose first item is the logits
        if loss == "soft":
            value = soft_cross_entropy(logits, labels)
        else:
            value = kwls_aux_loss(logits, labels[:, 0].round().long(), labels[:, 1:], alpha)
        if num_items_in_batch is not None:
            examples = float(num_items_in_batch) / labels.shape[1]
            value = value * labels.shape[0] / examples
        return value

    return compute_loss


class SoftLabelCollator:
    """Tokenize ``text`` and carry ``soft_label`` (and, for ``aux``, the gold label) in ``labels``.

    Parameters
    ----------
    tokenizer
        A transformers tokenizer.
    loss : {"soft", "aux"}
        What :func:`soft_label_loss` will compute; ``aux`` also packs the gold label.
    label_order : sequence of str, optional
        ``aux``: the order of the ``soft_label`` entries (e.g.
        ``lsctl.label_order(df)``), in which each gold label (a string, or an
        integer matched by its spelling) is looked up; without it, integer
        labels are used as indices.
    max_length : int, optional
        Truncate longer texts.
    text, soft_label, label : str
        Column names.
    """

    def __init__(
        self,
        tokenizer: Any,
        *,
        loss: str = "soft",
        label_order: Sequence[str] | None = None,
        max_length: int | None = None,
        text: str = "text",
        soft_label: str = "soft_label",
        label: str = "label",
    ) -> None:
        check_choice("loss", loss, LOSSES)
        self.tokenizer, self.loss, self.max_length = tokenizer, loss, max_length
        self.index = {str(v): i for i, v in enumerate(label_order or [])}
        self.text, self.soft_label, self.label = text, soft_label, label

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        needed = [self.text, self.soft_label] + ([self.label] if self.loss == "aux" else [])
        for i, f in enumerate(features):
            missing = [k for k in needed if k not in f]
            if missing:
                # Trainer drops the columns the model's forward does not take.
                raise ParameterError(
                    literal(
                        f"example {i} has no {missing[0]!r} (keys: {', '.join(map(str, f))}); "
                        "keep it with TrainingArguments(remove_unused_columns=False)"
                    )
                )
        batch = self.tokenizer(
            [f[self.text] for f in features],
            padding=True,
            truncation=self.max_length is not None,
            max_length=self.max_length,
            return_tensors="pt",
        )
        d = torch.tensor(np.stack([np.asarray(f[self.soft_label]) for f in features]))
        d = d.to(torch.float32)
        if self.loss == "aux":
            y = torch.tensor([self._index(f[self.label]) for f in features], dtype=torch.float32)
            d = torch.cat([y[:, None], d], dim=1)
        batch["labels"] = d
        return dict(batch)

    def _index(self, value: Any) -> int:
        # With an order, every label is looked up in it, integers too: a sorted
        # order need not put label 2 at index 2.
        if not self.index and isinstance(value, (int, np.integer)):
            return int(value)
        if str(value) not in self.index:
            raise ParameterError(
                f"{{label_order}} does not hold the label {value!r}", label_order=list(self.index)
            )
        return self.index[str(value)]
