"""Uniform and NLS targets: hand-worked values, torch's label_smoothing, the registry."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from lsctl.errors import LsctlError
from lsctl.smoothing import registry
from lsctl.smoothing.base import Context, Method
from lsctl.smoothing.uniform import uniform_targets


def test_conventions_by_hand():
    y = np.array([0, 2])
    k = uniform_targets(y, 3, 0.3, "k")
    np.testing.assert_allclose(k, [[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    k1 = uniform_targets(y, 3, 0.3, "k-1")
    np.testing.assert_allclose(k1, [[0.7, 0.15, 0.15], [0.15, 0.15, 0.7]])
    # METHODS.md: λ = 0.1 with K = 3 is the k convention with ε = 0.3.
    pc = uniform_targets(y, 3, 0.1, "per-class")
    np.testing.assert_allclose(pc, k)
    for t in (k, k1, pc):
        np.testing.assert_allclose(t.sum(axis=1), 1.0)


def test_k_convention_is_torch_label_smoothing():
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(7, 4, generator=gen, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 3, 3, 2, 0])
    for eps in (0.0, 0.1, 0.45):
        soft = torch.from_numpy(uniform_targets(y.numpy(), 4, eps, "k"))
        want = torch.nn.functional.cross_entropy(logits, y, label_smoothing=eps)
        got = torch.nn.functional.cross_entropy(logits, soft)
        assert torch.allclose(got, want, atol=1e-12)


def test_nls_is_the_k_formula_with_negative_rates():
    t = uniform_targets(np.array([1]), 4, -0.4, "k")
    np.testing.assert_allclose(t, [[-0.1, 1.3, -0.1, -0.1]])


def _ctx(params, labels=("a", "b", "c")):
    table = pa.table({"text": ["x", "y"], "label": ["c", "a"]})
    return Context.from_table(table, list(labels), params)


def _run(name, params):
    m = registry.get(name)()
    m.validate(params)
    ctx = _ctx(params)
    m.prepare(ctx)
    return np.concatenate([m.targets(ctx, b, s) for s, b in ctx.batches()])


def test_methods_through_the_registry():
    assert {"uniform", "nls", "kwls", "tfidf"} <= set(registry.names())
    assert all(issubclass(c, Method) for c in registry.methods().values())
    np.testing.assert_allclose(
        _run("uniform", {"epsilon": 0.3, "convention": "k-1"}),
        [[0.15, 0.15, 0.7], [0.7, 0.15, 0.15]],
    )
    np.testing.assert_allclose(_run("nls", {"rate": -0.3}), [[-0.1, -0.1, 1.2], [1.2, -0.1, -0.1]])


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        ("uniform", {"epsilon": 1.0}, "outside"),
        ("uniform", {"epsilon": -0.1}, "outside"),
        ("uniform", {"epsilon": float("nan")}, "outside"),
        ("uniform", {"epsilon": 0.1, "convention": "k+1"}, "convention"),
        ("nls", {"rate": 1.0}, "below 1"),
        ("nls", {}, "needs rate "),
    ],
)
def test_range_errors(name, params, match):
    with pytest.raises(LsctlError, match=match):
        registry.get(name)().validate(params)


def test_per_class_bound_and_unknown_method():
    m = registry.get("uniform")()
    ctx = _ctx({"epsilon": 0.34, "convention": "per-class"})
    with pytest.raises(LsctlError, match="λ < 1/K"):
        m.prepare(ctx)
    with pytest.raises(LsctlError, match="unknown --method"):
        registry.get("magic")
