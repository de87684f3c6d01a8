"""Small numeric kernels shared by soft labels, distillation and evaluation (NumPy only)."""

from __future__ import annotations

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    """Row softmax with max-subtraction in float64: finite for any finite input.

    Parameters
    ----------
    z : ndarray, shape (N, K)

    Returns
    -------
    ndarray, shape (N, K), float64; rows sum to 1.
    """
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z
