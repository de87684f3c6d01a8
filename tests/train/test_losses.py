"""Losses against torch's own implementations and hand computations (METHODS.md §2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lsctl.train import losses


def _case(seed=0, n=7, k=4):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, k, generator=g, dtype=torch.float64) * 3
    y = torch.randint(0, k, (n,), generator=g)
    return logits, y


def _uniform(y, k, eps):
    d = torch.full((len(y), k), eps / k, dtype=torch.float64)
    d[torch.arange(len(y)), y] += 1 - eps
    return d


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.4])
def test_soft_with_uniform_targets_is_torch_label_smoothing(eps):
    logits, y = _case()
    ours = losses.soft(logits, _uniform(y, 4, eps))
    torch_ls = F.cross_entropy(logits, y, label_smoothing=eps)
    assert ours.item() == pytest.approx(torch_ls.item(), abs=1e-12)


def test_soft_with_negative_rate_is_not_torch_label_smoothing_and_matches_by_hand():
    logits, y = _case(1)
    r = -0.4
    d = _uniform(y, 4, r)
    assert (d < 0).any()
    ours = losses.soft(logits, d).item()

    # Hand computation in numpy: mean_i −Σ_k d_ik log softmax(z_i)_k.
    z = logits.numpy()
    logp = z - z.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    by_hand = float(np.mean(-(d.numpy() * logp).sum(1)))
    assert ours == pytest.approx(by_hand, abs=1e-12)

    # torch silently treats r < 0 as plain CE (METHODS.md); NLS must not.
    plain = F.cross_entropy(logits, y).item()
    assert F.cross_entropy(logits, y, label_smoothing=0.0).item() == pytest.approx(plain)
    assert abs(ours - plain) > 1e-3


def test_aux_with_alpha_zero_is_ce_in_value_and_gradient():
    logits, y = _case(2)
    d = torch.softmax(torch.randn(7, 4, dtype=torch.float64), 1)
    a = logits.clone().requires_grad_()
    b = logits.clone().requires_grad_()
    la = losses.aux(a, y, d, alpha=0.0)
    lb = F.cross_entropy(b, y)
    la.backward()
    lb.backward()
    assert la.item() == pytest.approx(lb.item(), abs=1e-12)
    torch.testing.assert_close(a.grad, b.grad, atol=1e-12, rtol=0)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_aux_matches_the_kwls_formula_by_hand(alpha):
    logits, y = _case(3, n=5, k=3)
    d = torch.softmax(torch.randn(5, 3, dtype=torch.float64), 1)
    z = logits.numpy()
    o = np.exp(z - z.max(1, keepdims=True))
    o /= o.sum(1, keepdims=True)
    ce = -np.mean(np.log(o[np.arange(5), y.numpy()]))
    mse = np.mean((d.numpy() - o) ** 2)  # mean over B·K, no ½ (authors' code)
    expected = (ce + alpha * mse) / (1 + alpha) ** 2
    assert losses.aux(logits, y, d, alpha).item() == pytest.approx(expected, abs=1e-12)


def test_aux_head_puts_the_squared_error_on_the_second_head_only():
    logits, y = _case(4, n=6, k=3)
    second = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    first = logits.clone().requires_grad_()
    d = torch.softmax(torch.randn(6, 3, dtype=torch.float64), 1)
    alpha = 2.0
    loss = losses.aux_head(first, second, y, d, alpha)
    expected = (F.cross_entropy(logits, y) + alpha * F.mse_loss(torch.softmax(second, 1), d)) / 9
    assert loss.item() == pytest.approx(expected.item(), abs=1e-12)
    loss.backward()
    # The CE gradient reaches the first head alone, scaled by 1/(1+α)².
    ce_only = logits.clone().requires_grad_()
    F.cross_entropy(ce_only, y).backward()
    torch.testing.assert_close(first.grad, ce_only.grad / 9)
    assert second.grad.abs().sum() > 0


def test_ce_with_targets_is_the_soft_loss():
    logits, y = _case(5)
    d = _uniform(y, 4, 0.2)
    assert losses.compute("ce", logits, None, y, d, 1.0).item() == pytest.approx(
        F.cross_entropy(logits, y, label_smoothing=0.2).item(), abs=1e-6
    )


def test_runaway_floor_only_for_negative_targets():
    y = np.array([0, 1, 2])
    assert losses.runaway_floor(_uniform(torch.tensor(y), 3, 0.3).numpy()) is None
    assert losses.runaway_floor(None) is None
    d = _uniform(torch.tensor(y), 3, -0.6).numpy()  # off-targets -0.2 each, 2 per row
    assert losses.runaway_floor(d) == pytest.approx(-50 * 0.4)
