"""The row-sparse Adadelta step equals torch's Adadelta bit for bit."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from lsctl.train.adadelta import RowSparseAdadelta  # noqa: E402
from lsctl.train.models import TextCNN  # noqa: E402
from tests.train.trainkit import tiny_kim_config, write_dataset  # noqa: E402


def _model(seed: int = 0) -> TextCNN:
    torch.manual_seed(seed)
    return TextCNN(300, 4, embed_dim=12, num_filters=5, embed_init="uniform", conv_padding="full")


def _batches(n: int, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    for i in range(n):
        ids = torch.randint(1, 300, (6, 9), generator=g)
        ids[:, 6 + i % 3 :] = 0  # padding: row 0 gets no gradient
        yield ids, (ids > 0).long(), torch.randint(0, 4, (6,), generator=g)


def _train(model, opt, steps: int, lr_schedule=None) -> None:
    torch.manual_seed(2)  # the same dropout masks for both optimizers
    for i, (ids, mask, y) in enumerate(_batches(steps)):
        if lr_schedule:
            for group in opt.param_groups:
                group["lr"] = lr_schedule(i)
        opt.zero_grad(set_to_none=True)
        logits, _ = model(ids, mask)
        torch.nn.functional.cross_entropy(logits, y).backward()
        opt.step()


def _assert_same(m1, o1, m2, o2) -> None:
    for (name, p1), p2 in zip(m1.named_parameters(), m2.parameters(), strict=True):
        assert torch.equal(p1, p2), name
        s1, s2 = o1.state[p1], o2.state[p2]
        assert set(s1) == set(s2) == {"step", "square_avg", "acc_delta"}
        for key in s1:
            assert torch.equal(s1[key], s2[key]), (name, key)
            assert s1[key].dtype == s2[key].dtype, (name, key)


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_weights_and_state_equal_torch_adadelta_exactly(weight_decay):
    ref, new = _model(), _model()
    kw = dict(lr=1.0, rho=0.95, eps=1e-6, weight_decay=weight_decay)
    o_ref = torch.optim.Adadelta(ref.parameters(), **kw)
    o_new = RowSparseAdadelta(new.parameters(), row_sparse=[new.embedding.weight], **kw)
    _train(ref, o_ref, 15, lambda i: 1.0 - 0.05 * i)
    _train(new, o_new, 15, lambda i: 1.0 - 0.05 * i)
    _assert_same(ref, o_ref, new, o_new)
    # The embedding did move, and some rows were never touched: both paths ran.
    assert not torch.equal(new.embedding.weight, _model().embedding.weight)
    assert (new.embedding.weight == _model().embedding.weight).all(1).any()


def test_state_dicts_are_interchangeable_with_torch():
    # A run resumed from a checkpoint of the other optimizer continues identically.
    ref, new = _model(), _model()
    o_ref = torch.optim.Adadelta(ref.parameters(), lr=1.0)
    o_new = RowSparseAdadelta(new.parameters(), row_sparse=[new.embedding.weight], lr=1.0)
    _train(ref, o_ref, 5)
    _train(new, o_new, 5)
    swapped_ref = torch.optim.Adadelta(ref.parameters(), lr=1.0)
    swapped_ref.load_state_dict(o_new.state_dict())
    swapped_new = RowSparseAdadelta(new.parameters(), row_sparse=[new.embedding.weight], lr=1.0)
    swapped_new.load_state_dict(o_ref.state_dict())
    _train(ref, swapped_ref, 5)
    _train(new, swapped_new, 5)
    _assert_same(ref, swapped_ref, new, swapped_new)


def test_closure_is_refused():
    m = _model()
    opt = RowSparseAdadelta(m.parameters(), row_sparse=[m.embedding.weight])
    with pytest.raises(ValueError, match="closure"):
        opt.step(lambda: 0.0)


def test_kim2014_training_equals_a_run_with_torch_adadelta(tmp_path, monkeypatch):
    # The whole loop (Kim's preset: Adadelta, max-norm, full padding) gives the
    # same weights and predictions as torch's optimizer in its place.
    from lsctl.train import loop
    from lsctl.train.loop import train

    data = write_dataset(tmp_path / "train.parquet", n=90)

    def run(tag):
        return train(tiny_kim_config(data, tmp_path / tag, cache=False))

    built = []

    def spy(cls):
        def make(params, row_sparse, **kw):
            opt = (
                cls(params, row_sparse=row_sparse, **kw)
                if cls is RowSparseAdadelta
                else cls(params, **kw)
            )
            built.append(type(opt))
            return opt

        return make

    monkeypatch.setattr(loop, "RowSparseAdadelta", spy(RowSparseAdadelta))
    ours = run("rows")
    monkeypatch.setattr(loop, "RowSparseAdadelta", spy(torch.optim.Adadelta))
    theirs = run("torch")
    assert built == [RowSparseAdadelta, torch.optim.Adadelta]
    a, b = ours.model.state_dict(), theirs.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert [r["train_loss"] for r in ours.history] == [r["train_loss"] for r in theirs.history]
    assert ours.history[-1]["train_loss"] != ours.history[0]["train_loss"]
