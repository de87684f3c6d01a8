"""Online Label Smoothing (--loss ols): S by hand on a toy run, the loss, resume, DDP, CLI."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from trainkit import tiny_config, write_dataset

from lsctl.errors import UsageError
from lsctl.train import losses
from lsctl.train.config import TrainConfig
from lsctl.train.ols import initial_matrix, update_matrix


def _uniform(k, eps):
    return [[(1 - eps) * (i == j) + eps / k for j in range(k)] for i in range(k)]


def _hand_update(prev, probs, y):
    """Row c := the mean softmax over examples with y = c predicted as c, renormalised."""
    k = len(prev)
    out = [list(r) for r in prev]
    for c in range(k):
        rows = [p for p, g in zip(probs, y, strict=True) if g == c and max(p) == p[c]]
        if rows:
            mean = [sum(r[j] for r in rows) / len(rows) for j in range(k)]
            total = sum(mean)
            out[c] = [m / total for m in mean]
    return out


def test_initial_matrix_is_uniform_label_smoothing():
    assert np.allclose(initial_matrix(4, 0.2), _uniform(4, 0.2), atol=1e-15)


def test_update_matrix_keeps_rows_without_a_correct_example():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), 40)
    y = rng.integers(0, 2, 40)  # class 2 never occurs: its row must stay
    prev = initial_matrix(3, 0.1)
    got = update_matrix(prev, probs, y)
    assert np.allclose(got, _hand_update(prev.tolist(), probs.tolist(), y.tolist()), atol=1e-12)
    assert got[2].tolist() == prev[2].tolist()


def test_ols_loss_is_the_alpha_mix_of_two_cross_entropies():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(7, 3, generator=g)
    y = torch.tensor([0, 1, 2, 2, 1, 0, 1])
    s = torch.tensor(initial_matrix(3, 0.3), dtype=torch.float32)
    s[1] = torch.tensor([0.2, 0.5, 0.3])
    got = losses.compute("ols", logits, None, y, s[y], 0.25)
    # torch's cross_entropy with probability targets on α·onehot + (1−α)·S[y]:
    # CE is linear in its targets, so this is α·CE(y) + (1−α)·CE(S[y]).
    mixed = 0.25 * F.one_hot(y, 3).float() + 0.75 * s[y]
    assert float(got) == pytest.approx(float(F.cross_entropy(logits, mixed)), rel=1e-6)


def _capture(monkeypatch):
    """Record (epoch-phase loss name, logits, y, targets) of every training batch."""
    calls = []
    real = losses.compute

    def spy(name, logits, aux, y, d, alpha):
        calls.append((name, logits.detach().double().clone(), y.clone(), d, alpha))
        return real(name, logits, aux, y, d, alpha)

    monkeypatch.setattr(losses, "compute", spy)
    return calls


def test_s_after_one_epoch_equals_a_hand_computation(tmp_path, monkeypatch):
    from lsctl.train.loop import train

    calls = _capture(monkeypatch)
    data = write_dataset(tmp_path / "train.parquet", n=90)
    cfg = tiny_config(data, tmp_path / "run", loss="ols", epochs=2, batch_size=8, lr=3e-3)
    result = train(cfg)
    s = np.load(tmp_path / "run" / "ols_S.npy")
    assert s.shape == (3, 3, 3)
    assert np.allclose(s[0], _uniform(3, 0.1), atol=1e-12)  # documented default ε = 0.1

    steps = len(calls) // 2
    epoch1, epoch2 = calls[:steps], calls[steps:]
    probs = [p for _, z, _, _, _ in epoch1 for p in torch.softmax(z, 1).tolist()]
    gold = [g for _, _, y, _, _ in epoch1 for g in y.tolist()]
    want = _hand_update(s[0].tolist(), probs, gold)
    assert np.allclose(s[1], want, atol=1e-6)
    assert not np.allclose(s[1], s[0], atol=1e-3)  # the toy run did learn something

    # Epoch t's targets are the rows of S_{t-1}; α defaults to 0.5 for ols.
    for (name, _, y, d, alpha), prev in [(c, s[0]) for c in epoch1] + [(c, s[1]) for c in epoch2]:
        assert name == "ols" and alpha == 0.5
        assert np.allclose(d.numpy(), prev[y.numpy()], atol=1e-7)
    assert result.history[-1]["loss"] == "ols"


def test_label_smoothing_sets_s0_and_alpha_is_honoured(tmp_path, monkeypatch):
    from lsctl.train.loop import train

    calls = _capture(monkeypatch)
    data = write_dataset(tmp_path / "train.parquet", n=60)
    cfg = tiny_config(data, tmp_path / "run", loss="ols", epochs=1, label_smoothing=0.3, alpha=0.2)
    train(cfg)
    s = np.load(tmp_path / "run" / "ols_S.npy")
    assert np.allclose(s[0], _uniform(3, 0.3), atol=1e-12)
    name, z, y, d, alpha = calls[0]
    assert alpha == 0.2
    logp = torch.log_softmax(z, 1)
    want = -(0.2 * logp[torch.arange(len(y)), y] + 0.8 * (d.double() * logp).sum(1)).mean()
    assert float(losses.compute(name, z.float(), None, y, d, alpha)) == pytest.approx(
        float(want), rel=1e-5
    )
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["options"]["alpha"] == 0.2 and config["options"]["loss"] == "ols"


def test_alpha_defaults_and_range_per_loss(tmp_path):
    base = dict(train=str(tmp_path / "t.parquet"), output=str(tmp_path / "o"))
    assert TrainConfig(**base, loss="ols").resolved().alpha == 0.5
    assert TrainConfig(**base, loss="aux").resolved().alpha == 1.0
    assert TrainConfig(**base, loss="aux", alpha=3.0).resolved().alpha == 3.0
    with pytest.raises(UsageError, match=r"--alpha must be in \[0, 1\] for --loss ols"):
        TrainConfig(**base, loss="ols", alpha=1.5).resolved()
    with pytest.raises(UsageError, match="--label-smoothing"):
        TrainConfig(**base, loss="ols", label_smoothing=-0.1).resolved()


def test_soft_label_column_is_ignored_by_ols(tmp_path):
    """OLS makes its own targets: a soft_label column in TRAIN does not feed the loss."""
    from lsctl.train.data import load

    soft = np.tile([[0.2, 0.3, 0.5]], (30, 1))
    data = write_dataset(tmp_path / "soft.parquet", n=30, soft=soft)
    loaded = load(tiny_config(data, tmp_path / "o", loss="ols", label_smoothing=0.2).resolved())
    assert loaded.train.targets is None and loaded.targets_source == "ols"


class _InterruptAt:
    """A progress whose task(description) raises KeyboardInterrupt after N advances."""

    def __init__(self, description, after):
        self.description, self.after = description, after

    def task(self, description, total=None):
        from contextlib import contextmanager

        outer = self

        @contextmanager
        def cm():
            class _T:
                n = 0

                def advance(self, k=1):
                    if description == outer.description:
                        _T.n += 1
                        if _T.n > outer.after:
                            raise KeyboardInterrupt

                def update(self, **f):
                    pass

            yield _T()

        return cm()


def test_resume_mid_epoch_gives_the_same_s_and_weights(tmp_path):
    from lsctl.train.loop import train

    data = write_dataset(tmp_path / "train.parquet", n=120)
    kw = dict(loss="ols", epochs=3, batch_size=16, lr=3e-3)
    full = train(tiny_config(data, tmp_path / "full", **kw))
    cut = tiny_config(data, tmp_path / "cut", **kw)
    with pytest.raises(KeyboardInterrupt):
        # Mid-epoch 2: S_1 is in use and epoch 2's partial sums must be carried over.
        train(cut, progress=_InterruptAt("epoch 2/3", 3))
    state = torch.load(tmp_path / "cut" / "checkpoint" / "state.pt", weights_only=False)
    assert (state["epoch"], state["step"]) == (1, 3)
    assert len(state["ols"]["history"]) == 2 and float(state["ols"]["counts"].sum()) > 0
    resumed = train(cut, resume=True)

    a, b = np.load(tmp_path / "full" / "ols_S.npy"), np.load(tmp_path / "cut" / "ols_S.npy")
    assert a.shape == (4, 3, 3) and np.array_equal(a, b)
    for (n1, p1), (n2, p2) in zip(
        full.model.state_dict().items(), resumed.model.state_dict().items(), strict=True
    ):
        assert n1 == n2 and torch.equal(p1, p2), n1


def test_train_cli_loss_ols_end_to_end(cli, tmp_path):
    data = write_dataset(tmp_path / "train.parquet", n=60)
    run = tmp_path / "run"
    r = cli(
        "train", data, "-o", run, "--loss", "ols", "--alpha", "0.7", "--label-smoothing",
        "0.2", "--epochs", "2", "--embed-dim", "8", "--max-length", "12", "--device", "cpu",
        "--threads", "1", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    s = np.load(run / "ols_S.npy")
    assert s.shape == (3, 3, 3)
    assert np.allclose(s[0], _uniform(3, 0.2), atol=1e-12)
    assert np.allclose(s.sum(axis=2), 1.0, atol=1e-9)
    options = json.loads((run / "config.json").read_text())["options"]
    assert options["alpha"] == 0.7 and options["label_smoothing"] == 0.2
    r = cli("train", data, "-o", tmp_path / "bad", "--loss", "ols", "--alpha", "2")
    assert r.exit_code == 2 and "--alpha must be in [0, 1]" in r.stderr
    assert r.stderr.strip().count("\n") == 0


# -- data parallel: two gloo processes build the same S as one ---------------


def _worker(rank: int, world: int, tmp: str, kw: dict) -> None:
    import torch.distributed as dist

    from lsctl.train.loop import train

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp}/rendezvous", rank=rank, world_size=world
    )
    try:
        train(tiny_config(os.path.join(tmp, "train.parquet"), f"{tmp}/ddp", **kw))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_processes_build_the_same_s_as_one(tmp_path):
    import torch.multiprocessing as mp

    from lsctl.train.loop import train

    write_dataset(tmp_path / "train.parquet", n=100)
    kw = {"loss": "ols", "dropout": 0.0, "epochs": 2, "batch_size": 16, "lr": 3e-3}
    mp.spawn(_worker, args=(2, str(tmp_path), kw), nprocs=2, join=True)
    torch.set_num_threads(1)
    train(tiny_config(tmp_path / "train.parquet", tmp_path / "single", **kw))
    ddp = np.load(tmp_path / "ddp" / "ols_S.npy")
    one = np.load(tmp_path / "single" / "ols_S.npy")
    assert ddp.shape == one.shape == (3, 3, 3)
    assert np.allclose(ddp, one, atol=1e-5)


@pytest.mark.slow
def test_trec_ols_runs_end_to_end(cli, tmp_path):
    """Acceptance: `train --loss ols` on TREC (6 classes), then `eval` of the run."""
    from conftest import shared_dataset

    train = shared_dataset("trec", "train.parquet")
    test = shared_dataset("trec", "test.parquet")
    run = tmp_path / "run"
    r = cli(
        "train", train, "-o", run, "--loss", "ols", "--epochs", "5", "--embed-dim", "64",
        "--device", "cpu", "--seed", "0", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    s = np.load(run / "ols_S.npy")
    assert s.shape == (6, 6, 6)
    assert np.allclose(s.sum(axis=2), 1.0, atol=1e-9)
    # Each row of S_t is a mean of softmax vectors whose largest entry is that row's class.
    assert (s[1:].argmax(axis=2) == np.arange(6)).all()
    r = cli("eval", run, test, "--json")
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    print(f"TREC OLS test accuracy after 5 epochs: {summary['accuracy']:.4f}")
    assert summary["accuracy"] >= 0.7
