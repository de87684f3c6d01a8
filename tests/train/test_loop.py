"""The training loop: first-step equalities, resume, divergence guard, run directory."""

from __future__ import annotations

import json
from contextlib import contextmanager

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
import torch.nn.functional as F
from trainkit import LABELS, make_texts, tiny_config, uniform_by_hand, write_dataset

from lsctl.errors import LsctlError
from lsctl.train import data as data_mod
from lsctl.train.loop import Diverged, Trainer, train


@pytest.fixture(autouse=True)
def _threads():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _first_step(config):
    """Loss and gradients of the first batch of epoch 1, from a fresh trainer."""
    t = Trainer(config, data_mod.load(config.resolved()), write=False)
    t.model.train()
    idx = t.global_batches(1)[0]
    loss = t.batch_loss(idx, 1)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in t.module.named_parameters() if p.grad is not None}
    return t, idx, loss.detach(), grads


def test_soft_uniform_targets_equal_ce_with_label_smoothing_first_step(tmp_path):
    eps = 0.2
    _texts, gold = make_texts(120, 0)
    soft = write_dataset(tmp_path / "soft.parquet", soft=uniform_by_hand(gold, eps))
    plain = write_dataset(tmp_path / "plain.parquet")
    _a, idx_a, loss_a, grads_a = _first_step(tiny_config(soft, tmp_path / "a", loss="soft"))
    b, idx_b, loss_b, grads_b = _first_step(
        tiny_config(plain, tmp_path / "b", loss="ce", label_smoothing=eps)
    )
    assert torch.equal(idx_a, idx_b)
    assert loss_a.item() == pytest.approx(loss_b.item(), abs=1e-6)
    assert grads_a.keys() == grads_b.keys() and len(grads_a) > 0
    for name in grads_a:
        torch.testing.assert_close(grads_a[name], grads_b[name], atol=1e-6, rtol=1e-5)

    # Independent reference: torch's own label smoothing on the same logits.
    torch.manual_seed(0)
    b.model.eval()  # no dropout, so both sides see the same logits
    from lsctl.train.features import batch

    ids, mask = batch(b.train_ids, b.train_len, idx_b)
    logits, _ = b.model(ids, mask)
    y = b.train_y[idx_b]
    d = b.targets[idx_b]
    from lsctl.train import losses

    assert losses.soft(logits, d).item() == pytest.approx(
        F.cross_entropy(logits, y, label_smoothing=eps).item(), abs=1e-6
    )


def test_aux_with_alpha_zero_equals_ce_first_step(tmp_path):
    _texts, _gold = make_texts(120, 0)
    rng = np.random.default_rng(1)
    soft = write_dataset(tmp_path / "soft.parquet", soft=rng.dirichlet(np.ones(3), 120))
    _, _, loss_a, grads_a = _first_step(tiny_config(soft, tmp_path / "a", loss="aux", alpha=0.0))
    _, _, loss_c, grads_c = _first_step(tiny_config(soft, tmp_path / "c", loss="ce"))
    assert loss_a.item() == pytest.approx(loss_c.item(), abs=1e-7)
    for name in grads_c:
        torch.testing.assert_close(grads_a[name], grads_c[name], atol=1e-7, rtol=1e-6)


def test_warmup_with_ce_and_label_smoothing_trains_on_hard_labels(tmp_path):
    """`--loss ce --label-smoothing E --warmup-epochs N`: the warm-up must ignore the targets."""
    plain = write_dataset(tmp_path / "plain.parquet")
    _, idx_p, loss_p, grads_p = _first_step(tiny_config(plain, tmp_path / "p", loss="ce"))
    kw = dict(loss="ce", label_smoothing=-0.3, warmup_epochs=1)
    t, idx_w, loss_w, grads_w = _first_step(tiny_config(plain, tmp_path / "w", **kw))
    assert torch.equal(idx_p, idx_w)
    assert loss_w.item() == pytest.approx(loss_p.item(), abs=1e-7)
    for name in grads_p:
        torch.testing.assert_close(grads_w[name], grads_p[name], atol=1e-7, rtol=1e-6)
    # After the switch the same batch is scored against the NLS targets.
    t.model.eval()
    assert t.batch_loss(idx_w, 2).item() != pytest.approx(t.batch_loss(idx_w, 1).item(), abs=1e-3)


class _InterruptAt:
    """A Progress that raises KeyboardInterrupt (as Ctrl-C would) after N steps of an epoch."""

    def __init__(self, description: str, after: int) -> None:
        self.description, self.after = description, after

    @contextmanager
    def task(self, description, total=None):
        outer = self

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


@pytest.mark.parametrize("model", ["textcnn", "lstm"])
def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path, model):
    train_path = write_dataset(tmp_path / "train.parquet", n=150)
    kw = dict(model=model, epochs=2, scheduler="linear", warmup_ratio=0.1)
    kw.update(hidden=8) if model == "lstm" else None
    full = train(tiny_config(train_path, tmp_path / "full", **kw))

    cut = tiny_config(train_path, tmp_path / "cut", **kw)
    with pytest.raises(KeyboardInterrupt):
        # Mid-epoch 2: the checkpoint must carry the batch position and RNG state.
        train(cut, progress=_InterruptAt("epoch 2/2", 3))
    state = torch.load(tmp_path / "cut" / "checkpoint" / "state.pt", weights_only=False)
    assert (state["epoch"], state["step"]) == (1, 3)
    resumed = train(cut, resume=True)

    for (n1, p1), (n2, p2) in zip(
        full.model.state_dict().items(), resumed.model.state_dict().items(), strict=True
    ):
        assert n1 == n2
        assert torch.equal(p1, p2), n1
    for r1, r2 in zip(full.history, resumed.history, strict=True):
        assert r1["train_loss"] == pytest.approx(r2["train_loss"], rel=1e-12)
        assert r1["dev_accuracy"] == r2["dev_accuracy"]
    a = pq.read_table(tmp_path / "full" / "metrics.parquet").drop(["seconds", "examples_per_s"])
    b = pq.read_table(tmp_path / "cut" / "metrics.parquet").drop(["seconds", "examples_per_s"])
    assert a.to_pylist() == b.to_pylist()


def test_resume_refuses_changed_options(tmp_path):
    train_path = write_dataset(tmp_path / "train.parquet", n=60)
    train(tiny_config(train_path, tmp_path / "r", epochs=1))
    with pytest.raises(LsctlError, match="--lr"):
        train(tiny_config(train_path, tmp_path / "r", epochs=2, lr=0.5), resume=True)
    # More epochs is allowed: it continues after epoch 1.
    result = train(tiny_config(train_path, tmp_path / "r", epochs=2), resume=True)
    assert [r["epoch"] for r in result.history] == [1, 2]
    # Fewer epochs than it has finished would leave config.json contradicting them.
    with pytest.raises(LsctlError, match=r"--epochs 1 is below the 2 epochs this run has finished"):
        train(tiny_config(train_path, tmp_path / "r", epochs=1), resume=True)
    assert json.loads((tmp_path / "r" / "config.json").read_text())["options"]["epochs"] == 2


@pytest.mark.parametrize("which", ["train", "dev"])
def test_resume_refuses_a_train_or_dev_file_whose_content_changed(tmp_path, which):
    # The epochs before and after the resume would be scored on different dev
    # rows (or trained on different rows), and selected among.
    paths = {
        "train": write_dataset(tmp_path / "train.parquet", n=60),
        "dev": write_dataset(tmp_path / "dev.parquet", n=30, seed=1),
    }
    train(tiny_config(paths["train"], tmp_path / "r", epochs=1, dev=str(paths["dev"])))
    write_dataset(paths[which], n=40, seed=2)  # other rows under the same path
    with pytest.raises(LsctlError, match=f"{which}.parquet changed since the run started"):
        train(tiny_config(paths["train"], tmp_path / "r", epochs=2, dev=str(paths["dev"])),
              resume=True)  # fmt: skip


def test_divergence_stops_and_never_writes_nan_weights(tmp_path):
    train_path = write_dataset(tmp_path / "train.parquet", n=90)
    with pytest.raises(Diverged, match=r"diverged at epoch 1.*no weights were written"):
        train(tiny_config(train_path, tmp_path / "nan", lr=1e12, optimizer="sgd"))
    assert not (tmp_path / "nan" / "model.safetensors").exists()


def test_runaway_nls_keeps_the_last_good_epoch(tmp_path):
    """CE warm-up, then a hugely negative rate: the loss runs below its floor in epoch 2."""
    train_path = write_dataset(tmp_path / "train.parquet", n=90)
    cfg = tiny_config(
        train_path, tmp_path / "nls", label_smoothing=-50.0, warmup_epochs=1, lr=0.1, epochs=3
    )
    with pytest.raises(
        Diverged,
        match=r"epoch 2.*ran away.*no post-warm-up epoch.*checkpoint of epoch 1.*--warmup-epochs",
    ):
        train(cfg)
    # The warm-up epoch is never the selected model, so no weights exist; the
    # checkpoint keeps the last good (finite) state.
    assert not (tmp_path / "nls" / "model.safetensors").exists()
    state = torch.load(tmp_path / "nls" / "checkpoint" / "state.pt", weights_only=False)
    assert state["epoch"] == 1 and state["best"] is None
    assert all(torch.isfinite(w).all() for w in state["model"].values())
    metrics = pq.read_table(tmp_path / "nls" / "metrics.parquet").to_pylist()
    assert [(m["epoch"], m["phase"], m["selected"]) for m in metrics] == [(1, "warmup", False)]
    config = json.loads((tmp_path / "nls" / "config.json").read_text())
    assert config["status"] == "diverged" and config["best"] is None
    assert config["phases"] == {"warmup": [1], "main": []}


def _scripted_dev(monkeypatch, dev_y, accuracies):
    """Replace the dev evaluation: epoch e gets logits with exactly accuracies[e-1].

    Also records each epoch's weights as they were when dev was evaluated.
    """
    from lsctl.train import loop

    k = len(LABELS)
    snapshots = []

    def fake(module, *args, **kwargs):
        snapshots.append({n: v.detach().clone() for n, v in module.state_dict().items()})
        acc = accuracies[len(snapshots) - 1]
        n_right = round(acc * len(dev_y))
        pred = torch.tensor(
            [y if i < n_right else (y + 1) % k for i, y in enumerate(dev_y)], dtype=torch.long
        )
        return F.one_hot(pred, k).float() * 4.0

    monkeypatch.setattr(loop, "compute_logits", fake)
    return snapshots


def test_warmup_epochs_are_never_selected_and_patience_counts_from_the_switch(
    tmp_path, monkeypatch
):
    train_path = write_dataset(tmp_path / "train.parquet", n=60)
    dev_path = write_dataset(tmp_path / "dev.parquet", n=20, seed=7)
    dev_y = [LABELS.index(g) for g in pq.read_table(dev_path).column("label").to_pylist()]
    # The warm-up epochs score best and the 2nd one declines: selecting over all
    # epochs would keep epoch 1, and --patience 1 counted from epoch 1 would stop at 2.
    accuracies = [1.0, 0.9, 0.5, 0.6, 0.4, 0.95]
    snapshots = _scripted_dev(monkeypatch, dev_y, accuracies)
    cfg = tiny_config(
        train_path,
        tmp_path / "run",
        dev=str(dev_path),
        label_smoothing=-0.3,
        warmup_epochs=2,
        epochs=6,
        patience=1,
    )
    result = train(cfg)
    run = tmp_path / "run"

    assert result.stopped == "early-stopped" and len(result.history) == 5
    assert result.best["epoch"] == 4 and result.best["dev_accuracy"] == pytest.approx(0.6)
    metrics = pq.read_table(run / "metrics.parquet").to_pylist()
    assert [m["phase"] for m in metrics] == ["warmup"] * 2 + ["main"] * 3
    assert [m["selected"] for m in metrics] == [False, False, False, True, False]
    assert [m["dev_accuracy"] for m in metrics] == pytest.approx(accuracies[:5])
    config = json.loads((run / "config.json").read_text())
    assert config["selected_epoch"] == 4 and config["best"]["epoch"] == 4
    assert config["phases"] == {"warmup": [1, 2], "main": [3, 4, 5]}
    assert "after the CE warm-up" in config["selection"]

    from safetensors.torch import load_file

    saved = load_file(run / "model.safetensors")
    assert saved.keys() == snapshots[3].keys()
    for name, w in saved.items():
        assert torch.equal(w, snapshots[3][name]), name
    # Guard against a vacuous pass: the selected weights differ from the warm-up ones.
    assert any(not torch.equal(saved[n], snapshots[0][n]) for n in saved)


def test_resume_across_the_warmup_switch_gives_the_same_run(tmp_path):
    train_path = write_dataset(tmp_path / "train.parquet", n=90)
    kw = dict(label_smoothing=-0.2, warmup_epochs=1, epochs=3, scheduler="linear")
    full = train(tiny_config(train_path, tmp_path / "full", **kw))
    cut = tiny_config(train_path, tmp_path / "cut", **kw)
    with pytest.raises(KeyboardInterrupt):
        # Inside the first post-warm-up epoch: nothing is selected yet.
        train(cut, progress=_InterruptAt("epoch 2/3", 2))
    state = torch.load(tmp_path / "cut" / "checkpoint" / "state.pt", weights_only=False)
    assert (state["epoch"], state["step"], state["best"]) == (1, 2, None)
    resumed = train(cut, resume=True)

    assert full.best == resumed.best and full.best["epoch"] >= 2
    from safetensors.torch import load_file

    a, b = (
        load_file(tmp_path / "full" / "model.safetensors"),
        load_file(tmp_path / "cut" / "model.safetensors"),
    )
    assert a.keys() == b.keys() and all(torch.equal(a[n], b[n]) for n in a)
    ma = pq.read_table(tmp_path / "full" / "metrics.parquet").drop(["seconds", "examples_per_s"])
    mb = pq.read_table(tmp_path / "cut" / "metrics.parquet").drop(["seconds", "examples_per_s"])
    assert ma.to_pylist() == mb.to_pylist()
    assert ma.column("phase").to_pylist() == ["warmup", "main", "main"]


def test_run_directory_and_predictor(tmp_path):
    train_path = write_dataset(tmp_path / "train.parquet", n=120)
    dev_path = write_dataset(tmp_path / "dev.parquet", n=30, seed=5)
    result = train(tiny_config(train_path, tmp_path / "run", dev=str(dev_path), epochs=3))
    run = tmp_path / "run"
    config = json.loads((run / "config.json").read_text())
    assert config["labels"] == LABELS and config["seed"] == 3
    assert config["options"]["dev"] == str(dev_path)
    assert config["versions"]["torch"] == torch.__version__
    assert [i["path"] for i in config["inputs"]] == [str(train_path), str(dev_path)]
    assert all(len(i["sha256"]) == 64 for i in config["inputs"])
    vocab = json.loads((run / "vocab.json").read_text())
    assert vocab["itos"][:2] == ["<pad>", "<unk>"] and "pasta" in vocab["itos"]

    metrics = pq.read_table(run / "metrics.parquet").to_pylist()
    assert [m["epoch"] for m in metrics] == [1, 2, 3]
    assert set(metrics[0]) >= {"train_loss", "dev_accuracy", "dev_nll", "lr", "seconds"}
    # The linear schedule ends at 0.
    assert metrics[-1]["lr"] == pytest.approx(0.0, abs=1e-12)

    # The saved weights are the dev-selected epoch; the predictor reproduces its dev metrics.
    from lsctl.train.predict import load_predictor

    p = load_predictor(str(run), "cpu")
    assert p.labels == LABELS and p.config["options"]["model"] == "textcnn"
    dev = pq.read_table(dev_path)
    z = p.logits(dev.column("text").to_pylist(), batch_size=7)
    assert z.dtype == np.float32 and z.shape == (30, 3)
    y = np.array([LABELS.index(g) for g in dev.column("label").to_pylist()])
    best = result.best
    assert (z.argmax(1) == y).mean() == pytest.approx(best["dev_accuracy"])
    nll = -np.mean(torch.log_softmax(torch.tensor(z, dtype=torch.float64), 1).numpy()[range(30), y])
    assert nll == pytest.approx(best["dev_nll"], rel=1e-5)
    # Batch size does not change logits (padding is masked in the pooling).
    np.testing.assert_allclose(
        z, p.logits(dev.column("text").to_pylist(), batch_size=30), atol=1e-5
    )


def test_dev_split_is_the_data_split_dev_set(tmp_path, cli):
    """--dev-split F takes the rows `data split --dev F --test 0` puts in dev (one splitter)."""
    train_path = write_dataset(tmp_path / "train.parquet", n=60)
    r = cli("data", "split", train_path, "-o", tmp_path / "sp", "--dev", "0.2", "--test", "0",
            "--seed", "4", "-q")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    want = pq.read_table(tmp_path / "sp" / "dev.parquet").column("text").to_pylist()
    data = data_mod.load(tiny_config(train_path, tmp_path / "run", dev_split=0.2, seed=4))
    assert data.dev_source == "split"
    assert data.dev.texts == want
    assert len(data.train.texts) + len(data.dev.texts) == 60


def test_soft_loss_without_soft_label_names_softlabel(tmp_path):
    train_path = write_dataset(tmp_path / "train.parquet", n=30)
    with pytest.raises(LsctlError, match="lsctl softlabel"):
        train(tiny_config(train_path, tmp_path / "x", loss="aux"))


def test_resume_treats_options_missing_from_an_older_run_as_their_defaults(tmp_path):
    from lsctl.train.config import resume_conflicts

    now = tiny_config(tmp_path / "t.parquet", tmp_path / "r").resolved().to_dict()
    older = {k: v for k, v in now.items() if k != "drop_empty"}
    assert resume_conflicts(older, now) == []
    assert resume_conflicts(older, {**now, "drop_empty": True}) == ["drop_empty"]


def test_nls_loss_rising_from_near_zero_is_not_called_divergence(tmp_path, monkeypatch):
    """After the CE warm-up an NLS loss may start near 0; growing 100x from there is not a runaway."""
    import lsctl.train.loop as loop

    train_path = write_dataset(tmp_path / "train.parquet", n=90)
    cfg = tiny_config(
        train_path, tmp_path / "nls", label_smoothing=-0.4, warmup_epochs=1, epochs=2, lr=1e-3
    )
    real = loop.Trainer.batch_loss
    calls = {"main": 0}

    def scripted(self, idx, epoch):
        loss = real(self, idx, epoch)
        if self.in_warmup(epoch):
            return loss
        # Main phase: first step 0.01, later steps 2.5 (250x), all above the floor.
        calls["main"] += 1
        target = 0.01 if calls["main"] == 1 else 2.5
        return loss - loss.detach() + target

    monkeypatch.setattr(loop.Trainer, "batch_loss", scripted)
    result = train(cfg)
    assert [r["phase"] for r in result.history] == ["warmup", "main"]
    assert result.stopped == "completed"


def test_resume_with_more_patience_goes_on_as_an_uninterrupted_run(tmp_path, monkeypatch):
    # Dev accuracy dips at epoch 3 and recovers at 4: --patience 1 stops after
    # epoch 3; resumed with --patience 3 the run must train epochs 4-5 and end
    # exactly as a run that had --patience 3 from the start.
    train_path = write_dataset(tmp_path / "train.parquet", n=60)
    dev_path = write_dataset(tmp_path / "dev.parquet", n=20, seed=7)
    dev_y = [LABELS.index(g) for g in pq.read_table(dev_path).column("label").to_pylist()]
    accuracies = [0.5, 0.6, 0.55, 0.8, 0.7]
    kw = dict(dev=str(dev_path), epochs=5, scheduler="constant")

    _scripted_dev(monkeypatch, dev_y, accuracies)
    full = train(tiny_config(train_path, tmp_path / "full", patience=3, **kw))
    assert [r["epoch"] for r in full.history] == [1, 2, 3, 4, 5] and full.best["epoch"] == 4

    _scripted_dev(monkeypatch, dev_y, accuracies)
    part = train(tiny_config(train_path, tmp_path / "part", patience=1, **kw))
    assert part.stopped == "early-stopped" and len(part.history) == 3
    # The same patience: an early-stopped run stays stopped.
    _scripted_dev(monkeypatch, dev_y, [])
    again = train(tiny_config(train_path, tmp_path / "part", patience=1, **kw), resume=True)
    assert again.stopped == "early-stopped" and len(again.history) == 3
    _scripted_dev(monkeypatch, dev_y, accuracies[3:])
    notes = []
    resumed = train(
        tiny_config(train_path, tmp_path / "part", patience=3, **kw), resume=True,
        notify=notes.append,
    )  # fmt: skip
    assert any("allows more epochs" in n for n in notes)
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4, 5]
    assert resumed.best == full.best and resumed.stopped == full.stopped
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
