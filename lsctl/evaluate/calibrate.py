"""Temperature scaling (Guo et al. 2017): one scalar T fitted on held-out predictions.

Calibrated probabilities are ``softmax(z / T)``. T is the minimiser of the mean
negative log-likelihood on the dev set, found by a bounded scalar search on
``log T`` (the NLL is smooth in log T, and the log keeps T positive). Accuracy
never changes: dividing every logit of a row by the same T > 0 keeps its argmax.

Only probabilities stored? ``log p`` differs from the logits by a per-row
constant, which softmax ignores, so ``softmax(log p / T) = softmax(z / T)``:
temperature scaling of log-probabilities is exact for softmax outputs.
"""

from __future__ import annotations

import numpy as np

from lsctl.evaluate.metrics import NLL_EPS

# log T is searched in [log 1e-2, log 1e2]: a T outside it means the model's
# probabilities carry next to no information (or the dev set is tiny), and the
# bound is reported back rather than run off to infinity.
T_BOUNDS = (1e-2, 1e2)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64 with max-subtraction.

    Parameters
    ----------
    z : ndarray, shape (N, K)

    Returns
    -------
    ndarray, shape (N, K)

    Examples
    --------
    >>> np.exp(log_softmax(np.array([[0.0, 0.0]]))).tolist()
    [[0.5, 0.5]]
    """
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def logits_from_probs(probs: np.ndarray) -> np.ndarray:
    """Log-probabilities (clipped at ``NLL_EPS``) to stand in for missing logits.

    Parameters
    ----------
    probs : ndarray, shape (N, K)

    Returns
    -------
    ndarray, shape (N, K)
        ``log max(p, 1e-15)``; ``softmax`` of it gives back ``p`` (up to the clip).

    Examples
    --------
    >>> np.round(np.exp(logits_from_probs(np.array([[0.25, 0.75]]))), 6).tolist()
    [[0.25, 0.75]]
    """
    return np.log(np.maximum(np.asarray(probs, dtype=np.float64), NLL_EPS))


def temperature_nll(logits: np.ndarray, y: np.ndarray, temperature: float) -> float:
    """Mean NLL of ``softmax(logits / T)`` at the gold labels (no clipping).

    Parameters
    ----------
    logits : ndarray, shape (N, K)
    y : ndarray of int, shape (N,)
    temperature : float
        T > 0.

    Returns
    -------
    float

    Examples
    --------
    >>> round(temperature_nll(np.array([[0.0, 0.0]]), np.array([1]), 2.0), 6)
    0.693147
    """
    logp = log_softmax(np.asarray(logits, dtype=np.float64) / temperature)
    y = np.asarray(y)
    return float(-logp[np.arange(len(y)), y].mean())


def fit_temperature(
    logits: np.ndarray, y: np.ndarray, bounds: tuple[float, float] = T_BOUNDS
) -> float:
    """The temperature T minimising the dev NLL of ``softmax(logits / T)`` (Guo et al. 2017).

    Parameters
    ----------
    logits : ndarray, shape (N, K)
        Dev-set logits (or log-probabilities, see ``logits_from_probs``).
    y : ndarray of int, shape (N,)
        Dev-set gold label indices.
    bounds : (float, float)
        Search interval for T; the search runs on log T (``minimize_scalar``,
        bounded, ``xatol`` 1e-7 on log T).

    Returns
    -------
    float
        T > 0; T > 1 softens over-confident predictions, T < 1 sharpens.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(4000, 3)) * 3
    >>> y = np.array([rng.choice(3, p=np.exp(r - np.logaddexp.reduce(r))) for r in z])
    >>> round(fit_temperature(z * 2, y), 1)  # logits twice too sharp: T ≈ 2
    2.0
    """
    from scipy.optimize import minimize_scalar

    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y)
    if len(y) == 0:
        raise ValueError("fitting a temperature needs at least one example")
    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    res = minimize_scalar(
        lambda u: temperature_nll(z, y, float(np.exp(u))),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-7},
    )
    return float(np.exp(res.x))


def scale(logits: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated ``(logits / T, softmax(logits / T))``.

    Parameters
    ----------
    logits : ndarray, shape (N, K)
    temperature : float

    Returns
    -------
    (ndarray, ndarray), both shape (N, K)
        The scaled logits and their softmax probabilities (float64).

    Examples
    --------
    >>> z, p = scale(np.array([[2.0, 0.0]]), 2.0)
    >>> z.tolist(), np.round(p, 4).tolist()
    ([[1.0, 0.0]], [[0.7311, 0.2689]])
    """
    z = np.asarray(logits, dtype=np.float64) / temperature
    return z, np.exp(log_softmax(z))
