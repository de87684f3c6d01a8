"""Online Label Smoothing (Zhang et al., IEEE TIP 2021, arXiv 2011.12562).

A K×K matrix S holds one soft target per gold class. S_0 is uniform label
smoothing, ``(1−ε)·I + ε/K``. During epoch t the targets are the rows
``S_{t−1}[y]``; after epoch t, row c becomes the normalised mean softmax of the
training examples of class c that the model classified correctly in that
epoch (a class with no correct example keeps its row). The loss is
``α·CE(y, p) + (1−α)·CE(S[y], p)`` (``lsctl.train.losses.ols``).

The softmax statistics are those of the training forward passes (with
dropout, in training mode), as in the paper: they come for free from the
steps, with no second pass over the data. Under data parallelism every rank
accumulates its own rows' sums and counts and they are all-reduced at the
end of the epoch, so one process and N processes build the same S.

The module imports torch only inside ``OnlineLabelSmoothing``'s methods; the
plain functions take numpy arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FILE = "ols_S.npy"


def initial_matrix(k: int, epsilon: float) -> np.ndarray:
    """S_0: uniform label smoothing, ``(1−ε)·I + ε/K`` (the ``k`` convention of ``--label-smoothing``).

    Parameters
    ----------
    k : int
        Number of classes K ≥ 2.
    epsilon : float
        Smoothing rate ε in [0, 1).

    Returns
    -------
    ndarray, shape (K, K)
        Row c is the target of gold class c; every row sums to 1.

    Examples
    --------
    >>> initial_matrix(2, 0.2).tolist()
    [[0.9, 0.1], [0.1, 0.9]]
    """
    s = np.full((k, k), epsilon / k, dtype=np.float64)
    s[np.diag_indices(k)] += 1.0 - epsilon
    return s


def update_matrix(previous: np.ndarray, probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """S_t from S_{t−1} and one epoch's softmax outputs on the training examples.

    Parameters
    ----------
    previous : ndarray, shape (K, K)
        S_{t−1}.
    probs : ndarray, shape (N, K)
        Softmax outputs of the epoch's training steps.
    y : ndarray of int, shape (N,)
        Gold labels.

    Returns
    -------
    ndarray, shape (K, K)
        Row c: the mean of ``probs[i]`` over the examples with ``y_i = c`` and
        ``argmax probs[i] = c``, normalised to sum 1; ``previous[c]`` when
        there is no such example.

    Examples
    --------
    >>> p = np.array([[0.8, 0.2], [0.6, 0.4], [0.7, 0.3]])
    >>> update_matrix(initial_matrix(2, 0.1), p, np.array([0, 0, 1])).round(3).tolist()
    [[0.7, 0.3], [0.05, 0.95]]
    """
    probs = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y)
    out = np.array(previous, dtype=np.float64, copy=True)
    correct = probs.argmax(axis=1) == y
    for c in range(out.shape[0]):
        rows = probs[correct & (y == c)]
        if len(rows):
            mean = rows.mean(axis=0)
            out[c] = mean / mean.sum()
    return out


class OnlineLabelSmoothing:
    """The OLS state of one training run: S, its history, and this epoch's sums.

    Parameters
    ----------
    k : int
        Number of classes.
    epsilon : float
        Smoothing rate of S_0.
    device : torch.device or str
        Where the targets and accumulators live.

    Examples
    --------
    >>> import torch
    >>> ols = OnlineLabelSmoothing(2, 0.1, "cpu")
    >>> ols.observe(torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]))
    >>> ols.end_epoch()[0].round(4).tolist()  # row 0 from its one correct example
    [0.8808, 0.1192]
    """

    def __init__(self, k: int, epsilon: float, device: Any) -> None:
        import torch

        self.k, self.epsilon = k, epsilon
        self.device = torch.device(device)
        s0 = initial_matrix(k, epsilon)
        self.history: list[np.ndarray] = [s0]
        self._s = torch.as_tensor(s0, dtype=torch.float32, device=self.device)
        self._reset()

    def _reset(self) -> None:
        import torch

        self._sums = torch.zeros((self.k, self.k), dtype=torch.float64, device=self.device)
        self._counts = torch.zeros(self.k, dtype=torch.float64, device=self.device)

    @property
    def matrix(self) -> np.ndarray:
        """The current S (the targets of this epoch), K×K float64."""
        return self.history[-1]

    def targets(self, y: Any) -> Any:
        """Rows ``S[y]``: the soft targets of a batch, shape (B, K), float32."""
        return self._s[y]

    def observe(self, logits: Any, y: Any) -> None:
        """Add a training batch's softmax outputs of correctly classified examples."""
        import torch

        with torch.no_grad():
            p = torch.softmax(logits.detach().float(), dim=1)
            hit = p.argmax(dim=1) == y
            yc = y[hit]
            self._sums.index_add_(0, yc, p[hit].double())
            self._counts.index_add_(0, yc, torch.ones_like(yc, dtype=torch.float64))

    def end_epoch(self) -> np.ndarray:
        """Close the epoch: S_t from the accumulated (all-reduced) sums; returns S_t."""
        import torch

        from lsctl.train import dist

        sums = dist.all_sum(self._sums).cpu()
        counts = dist.all_sum(self._counts).cpu()
        new = torch.as_tensor(self.history[-1], dtype=torch.float64).clone()
        has = counts > 0
        mean = sums[has] / counts[has, None]
        new[has] = mean / mean.sum(dim=1, keepdim=True)
        s = new.numpy()
        self.history.append(s)
        self._s = torch.as_tensor(s, dtype=torch.float32, device=self.device)
        self._reset()
        return s

    def state_dict(self) -> dict[str, Any]:
        """Everything ``--resume`` needs, this epoch's partial sums included."""
        return {
            "epsilon": self.epsilon,
            "history": [h.copy() for h in self.history],
            "sums": self._sums.cpu().clone(),
            "counts": self._counts.cpu().clone(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        import torch

        self.history = [np.asarray(h, dtype=np.float64) for h in state["history"]]
        self._s = torch.as_tensor(self.history[-1], dtype=torch.float32, device=self.device)
        self._sums = state["sums"].to(self.device, torch.float64)
        self._counts = state["counts"].to(self.device, torch.float64)

    def save(self, run: str) -> str:
        """Write ``RUN/ols_S.npy``: S_0 … S_t stacked, shape (t+1, K, K), run label order."""
        import os

        from lsctl.artifacts.io import atomic_path

        target = os.path.join(run, FILE)
        with atomic_path(target) as tmp, open(tmp, "wb") as f:
            np.save(f, np.stack(self.history))
        return target
