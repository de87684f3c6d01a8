"""Instance-dependent noise for text, driven by keyword relevance (KWLS ILR).

The model (also in docs/noise.md and ``lsctl noise --help``):

1. ILR S (N×K) is the KWLS instance-label relevance of each text to each class,
   with keyword statistics fitted on the data's own (current) labels.
2. Each instance's target is its most relevant *other* class,
   t_i = argmax_{j≠y_i} S[i, j], and its confusability margin is
   m_i = S[i, t_i] − S[i, y_i].
3. Margins become scale-free scores s_i ∈ (0, 1): their mid-ranks divided by N
   (tied margins share a score).
4. Flip probability p_i = σ(a + s_i/τ), τ the temperature. The offset a is found
   by bisection so that mean(p) = R; the most confusable instance's odds of
   flipping are e^{1/τ} times the least confusable one's.
5. Without --exact each instance flips to t_i independently with probability
   p_i. With --exact exactly round(R·N) instances flip, drawn without
   replacement with weights p_i (Efraimidis–Spirakis keys u^{1/p_i}).

The intended T is the expectation of this model: T[c, j] = Σ_{i: y_i=c, t_i=j} p_i / n_c.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lsctl.noise.inject import NoiseResult, round_half_up, summarize
from lsctl.noise.transition import check_rate
from lsctl.progress import Progress, ensure
from lsctl.validation import check_seed

DEFAULT_TEMPERATURE = 0.2


@dataclass
class InstanceDetail:
    flip_prob: np.ndarray  # p_i
    target: np.ndarray  # t_i
    margin: np.ndarray  # m_i
    offset: float  # a


def targets_and_margins(ilr: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = ilr.shape[0]
    rows = np.arange(n)
    own = ilr[rows, y]
    others = ilr.astype(np.float64, copy=True)
    others[rows, y] = -np.inf
    target = others.argmax(axis=1)
    return target.astype(np.int64), others[rows, target] - own


def mid_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties given their average rank (as scipy.stats.rankdata)."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse.ravel()]


def flip_probabilities(
    margin: np.ndarray, rate: float, temperature: float = DEFAULT_TEMPERATURE
) -> tuple[np.ndarray, float]:
    """p_i = σ(a + s_i/τ) with a chosen so that mean(p) = ``rate``; returns (p, a)."""
    check_rate(rate)
    from lsctl.validation import check_range

    check_range("temperature", temperature, low=0, low_open=True, hint="(e.g. {temperature:v=0.2})")
    n = margin.shape[0]
    if rate == 0.0 or n == 0:
        return np.zeros(n), -np.inf
    z = (mid_ranks(margin) - 0.5) / n / temperature
    logit = np.log(rate / (1.0 - rate))
    # With z ∈ (0, 1/τ): at a = logit(R) − 1/τ every p_i < R, at a = logit(R) every p_i > R.
    lo, hi = logit - 1.0 / temperature, logit
    for _ in range(200):
        a = 0.5 * (lo + hi)
        mean = _sigmoid(a + z).mean()
        if abs(mean - rate) < 1e-13 or hi - lo < 1e-15:
            break
        if mean < rate:
            lo = a
        else:
            hi = a
    return _sigmoid(a + z), float(a)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free form of 1/(1+e^{−x})


def instance_noise(
    ilr: np.ndarray,
    y: np.ndarray,
    rate: float,
    seed: int,
    temperature: float = DEFAULT_TEMPERATURE,
    exact: bool = False,
) -> tuple[NoiseResult, InstanceDetail]:
    """Flip confusable instances to their most relevant other class (see module doc)."""
    check_seed(seed)
    y = np.asarray(y, dtype=np.int64)
    n, k = ilr.shape
    target, margin = targets_and_margins(ilr, y)
    p, a = flip_probabilities(margin, rate, temperature)
    rng = np.random.default_rng(seed)
    u = rng.random(n)
    if exact:
        m = int(round_half_up(rate * n))
        flip = np.zeros(n, dtype=bool)
        if m:
            with np.errstate(divide="ignore"):
                keys = np.log(u) / p  # log of u^{1/p}: same order, no underflow
            flip[np.argpartition(-keys, m - 1)[:m]] = True
    else:
        flip = u < p
    noisy = np.where(flip, target, y)
    intended = expected_matrix(y, target, p, k)
    return summarize(y, noisy, intended), InstanceDetail(p, target, margin, a)


def expected_matrix(y: np.ndarray, target: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """The model's expected T given each instance's class, target and flip probability."""
    moved = np.bincount(y * k + target, weights=p, minlength=k * k).reshape(k, k)
    n_c = np.bincount(y, minlength=k).astype(np.float64)
    t = np.divide(moved, n_c[:, None], out=np.zeros((k, k)), where=n_c[:, None] > 0)
    t[np.arange(k), np.arange(k)] = np.where(n_c > 0, 1.0 - t.sum(axis=1), 1.0)
    return t


def keyword_relevance(
    texts: Sequence[str] | Any, y: np.ndarray, k: int, progress: Progress | None = None
) -> np.ndarray:
    """KWLS ILR (N×K) with the KWLS defaults; the one implementation lives in smoothing.

    ``texts``: list of str or a pyarrow string (chunked) array.
    """
    from lsctl.smoothing.relevance import instance_label_relevance
    from lsctl.text.tokenize import TokenizerSpec

    with ensure(progress).task("keyword relevance (KWLS ILR)", total=None):
        return np.asarray(
            instance_label_relevance(texts, y, k, spec=TokenizerSpec()),
            dtype=np.float64,
        )
