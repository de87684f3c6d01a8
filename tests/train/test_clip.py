"""--grad-clip with sparse gradients (fastText), and what a failed run leaves behind."""

from __future__ import annotations

import pytest
import torch
from trainkit import tiny_config, write_dataset

from lsctl.train.clip import clip_grad_norm_
from lsctl.train.loop import train


def _grads(sparse: bool, seed: int = 0):
    """An embedding with a sparse (or dense) gradient with repeated rows, and a dense head."""
    torch.manual_seed(seed)
    emb = torch.nn.Embedding(20, 3, sparse=sparse)
    head = torch.nn.Linear(3, 2)
    ids = torch.tensor([[1, 4, 4, 7], [7, 7, 2, 4]])  # repeated rows: uncoalesced when sparse
    head(emb(ids).mean(1)).pow(2).sum().mul(50).backward()
    return [emb.weight, *head.parameters()]


@pytest.mark.parametrize("max_norm", [0.01, 1e3])
def test_sparse_clipping_equals_torch_on_the_dense_gradients(max_norm):
    sparse, dense = _grads(True), _grads(False)
    assert sparse[0].grad.is_sparse and not sparse[0].grad.is_coalesced()
    got = clip_grad_norm_(sparse, max_norm)
    want = torch.nn.utils.clip_grad_norm_(dense, max_norm)
    torch.testing.assert_close(got, want)
    for s, d in zip(sparse, dense, strict=True):
        torch.testing.assert_close(s.grad.to_dense(), d.grad)
    # Clipped when the norm is larger, untouched when it is smaller.
    assert (float(want) > max_norm) == (max_norm == 0.01)


def test_fasttext_trains_with_grad_clip(tmp_path):
    path = write_dataset(tmp_path / "t.parquet", n=60)
    kw = dict(model="fasttext", epochs=1, lr=5.0)
    loose = train(tiny_config(path, tmp_path / "loose", **kw))
    tight = train(tiny_config(path, tmp_path / "tight", grad_clip=1e-3, **kw))
    same = train(tiny_config(path, tmp_path / "same", grad_clip=1e6, **kw))
    a, b, c = (r.model.state_dict() for r in (loose, tight, same))
    # A clip above every norm changes nothing (up to the order in which the
    # coalesced gradient sums repeated rows).
    for k in a:
        torch.testing.assert_close(a[k], c[k])
    assert not torch.equal(a["embedding.weight"], b["embedding.weight"])


def test_a_run_that_fails_before_its_first_checkpoint_leaves_nothing(tmp_path, monkeypatch):
    from lsctl.train import loop

    path = write_dataset(tmp_path / "t.parquet", n=40)

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(loop.Trainer, "_train_epoch", boom)
    out = tmp_path / "new" / "run"
    with pytest.raises(RuntimeError):
        train(tiny_config(path, out))
    assert not (tmp_path / "new").exists(), "the folders this run made are gone"
    # An existing empty folder stays, emptied again.
    out.mkdir(parents=True)
    with pytest.raises(RuntimeError):
        train(tiny_config(path, out))
    assert out.is_dir() and list(out.iterdir()) == []
    monkeypatch.undo()
    assert train(tiny_config(path, out, epochs=1)).history
