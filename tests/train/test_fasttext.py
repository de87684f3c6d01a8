"""fastText (Joulin et al. 2016): hashed bigrams, padding-free means, sparse SGD, the CLI."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from trainkit import LABELS, tiny_config, write_dataset

from lsctl.train.config import TrainConfig
from lsctl.train.loop import train
from lsctl.train.models import BIGRAM_PRIME, FastText

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))


@pytest.fixture(autouse=True)
def _threads():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _mean_by_hand(model: FastText, ids: list[int]) -> np.ndarray:
    """Mean of the word rows and of the hashed rows of adjacent pairs, in plain Python."""
    words = model.embedding.weight.detach().numpy()
    rows = [words[i] for i in ids]
    if model.bigrams is not None:
        table = model.bigrams.weight.detach().numpy()
        rows += [table[(a * BIGRAM_PRIME + b) % model.buckets] for a, b in itertools.pairwise(ids)]
    return np.mean(rows, axis=0)


@pytest.mark.parametrize("ngrams", [1, 2])
def test_features_are_the_mean_of_word_and_bigram_vectors_ignoring_padding(ngrams):
    torch.manual_seed(0)
    m = FastText(vocab_size=50, num_labels=3, embed_dim=4, ngrams=ngrams, buckets=97).eval()
    texts = [[5, 9, 2, 31], [7], [3, 3, 8]]
    width = 6
    ids = torch.zeros(3, width, dtype=torch.long)
    for i, t in enumerate(texts):
        ids[i, : len(t)] = torch.tensor(t)
    got = m.features(ids, ids > 0).detach().numpy()
    for i, t in enumerate(texts):
        np.testing.assert_allclose(got[i], _mean_by_hand(m, t), rtol=1e-6, atol=1e-7)
    # More padding on the right changes nothing.
    wider = torch.cat([ids, torch.zeros(3, 5, dtype=torch.long)], dim=1)
    torch.testing.assert_close(m(wider, wider > 0)[0], m(ids, ids > 0)[0])
    assert (m.bigrams is None) == (ngrams == 1)


def test_sparse_sgd_step_equals_the_dense_step_and_touches_only_used_rows():
    ids = torch.tensor([[4, 8, 15, 0], [16, 23, 42, 8]])
    y = torch.tensor([0, 2])
    models = []
    for sparse in (True, False):
        torch.manual_seed(1)
        m = FastText(60, 3, embed_dim=5, buckets=101, sparse=sparse)
        before = {k: v.clone() for k, v in m.state_dict().items()}
        opt = torch.optim.SGD(m.parameters(), lr=0.7, momentum=0.0, foreach=False)
        loss = torch.nn.functional.cross_entropy(m(ids, ids > 0)[0], y)
        loss.backward()
        assert m.embedding.weight.grad.is_sparse == sparse
        opt.step()
        models.append((m, before))
    (sp, before), (dense, _) = models
    for k, v in sp.state_dict().items():
        torch.testing.assert_close(v, dense.state_dict()[k], rtol=1e-6, atol=1e-7)
    changed = (sp.embedding.weight != before["embedding.weight"]).any(1).nonzero().flatten()
    assert sorted(changed.tolist()) == [4, 8, 15, 16, 23, 42]
    pairs = {
        (a * BIGRAM_PRIME + b) % 101 for a, b in [(4, 8), (8, 15), (16, 23), (23, 42), (42, 8)]
    }
    changed = (sp.bigrams.weight != before["bigrams.weight"]).any(1).nonzero().flatten()
    assert set(changed.tolist()) == pairs


def test_fasttext_defaults_and_explicit_options_win():
    c = TrainConfig(train="t.parquet", output="o", model="fasttext").resolved()
    assert (c.optimizer, c.lr, c.weight_decay, c.embed_dim) == ("sgd", 2.0, 0.0, 10)
    assert (c.batch_size, c.max_length, c.dropout) == (16, 1000, 0.0)
    assert c.sparse_embeddings
    c = TrainConfig(
        train="t.parquet", output="o", model="fasttext", optimizer="adamw", batch_size=8
    ).resolved()
    assert (c.optimizer, c.lr, c.weight_decay, c.batch_size) == ("adamw", 1e-3, 0.0, 8)
    assert not c.sparse_embeddings
    # The other models keep their own defaults.
    c = TrainConfig(train="t.parquet", output="o").resolved()
    assert (c.optimizer, c.embed_dim, c.batch_size, c.max_length) == ("adamw", 300, 64, 256)


@pytest.mark.parametrize("loss", ["ce", "soft", "aux", "aux-head", "ols"])
def test_every_loss_trains_and_learns(tmp_path, loss):
    import pyarrow.parquet as pq
    from safetensors.torch import load_file
    from trainkit import uniform_by_hand

    plain = write_dataset(tmp_path / "plain.parquet", n=150)
    labels = pq.read_table(plain).column("label").to_pylist()
    path = write_dataset(tmp_path / "train.parquet", n=150, soft=uniform_by_hand(labels, 0.1))
    result = train(
        tiny_config(
            path, tmp_path / "run", model="fasttext", loss=loss, epochs=8, embed_dim=8, lr=5.0
        )
    )
    # Three separable word groups: a bag of words learns them.
    assert result.best["dev_accuracy"] >= 0.8
    saved = torch.load(tmp_path / "run" / "checkpoint" / "state.pt", weights_only=False)
    assert ("aux_head.weight" in saved["model"]) == (loss == "aux-head")
    # Predictions never use the aux head, so the exported weights leave it out.
    assert "aux_head.weight" not in load_file(tmp_path / "run" / "model.safetensors")


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    path = write_dataset(tmp_path / "train.parquet", n=150)
    # Constant LR: the linear schedule depends on the epoch count, which resume extends.
    kw = dict(model="fasttext", epochs=3, buckets=211, lr=0.5, scheduler="constant")
    full = train(tiny_config(path, tmp_path / "full", **kw))
    part = train(tiny_config(path, tmp_path / "part", **{**kw, "epochs": 1}))
    assert len(part.history) == 1
    resumed = train(tiny_config(path, tmp_path / "part", **kw), resume=True)
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k


def test_cli_train_and_eval_with_ngrams_and_buckets(cli, tmp_path):
    from safetensors.torch import load_file

    data = write_dataset(tmp_path / "train.parquet", n=90)
    test = write_dataset(tmp_path / "test.parquet", n=30, seed=9)
    common = ["--model", "fasttext", "--epochs", "3", "--device", "cpu", "-q"]
    r = cli("train", data, "-o", tmp_path / "bi", *common, "--buckets", "313", "--ngrams", "2")
    assert r.exit_code == 0, r.stderr
    weights = load_file(tmp_path / "bi" / "model.safetensors")
    assert weights["bigrams.weight"].shape == (313, 10)
    config = json.loads((tmp_path / "bi" / "config.json").read_text())
    assert config["model"]["ngrams"] == 2 and config["model"]["buckets"] == 313
    # Only what fastText has: no CNN padding, no LSTM hidden size; its own init.
    assert not {"hidden", "conv_padding"} & set(config["model"])
    assert config["model"]["embed_init"] == "U[-0.1, 0.1] (fastText: 1/d)"

    r = cli("train", data, "-o", tmp_path / "uni", *common, "--ngrams", "1")
    assert r.exit_code == 0, r.stderr
    assert "bigrams.weight" not in load_file(tmp_path / "uni" / "model.safetensors")

    r = cli("eval", tmp_path / "bi", test, "--json")
    assert r.exit_code == 0, r.stderr
    assert 0.0 <= json.loads(r.stdout)["accuracy"] <= 1.0
    assert set(LABELS) == set(json.loads((tmp_path / "bi" / "config.json").read_text())["labels"])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--model", "fasttext", "--ngrams", "3"], "--ngrams"),
        (["--model", "fasttext", "--buckets", "0"], "--buckets"),
        (["--model", "textcnn", "--buckets", "99"], "apply to --model fasttext"),
    ],
)
def test_bad_fasttext_options_are_one_line_usage_errors(cli, tmp_path, args, needle):
    data = write_dataset(tmp_path / "train.parquet", n=30)
    r = cli("train", data, "-o", tmp_path / "run", *args)
    assert r.exit_code == 2 and needle in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "run").exists()


def test_aux_loss_with_sgd_says_the_step_shrinks(tmp_path):
    path = write_dataset(tmp_path / "train.parquet", n=60)
    notes: list[str] = []
    train(
        tiny_config(path, tmp_path / "run", model="fasttext", loss="ce", epochs=1),
        notify=notes.append,
    )
    assert not any("(1+alpha)^2" in n for n in notes)
    from trainkit import uniform_by_hand

    soft = write_dataset(tmp_path / "soft.parquet", n=60, soft=uniform_by_hand(["food"] * 60, 0.1))
    train(
        tiny_config(soft, tmp_path / "aux", model="fasttext", loss="aux", epochs=1, alpha=3.0),
        notify=notes.append,
    )
    assert any("(1+alpha)^2 = 16" in n and "--lr x16" in n for n in notes)


def test_weight_decay_keeps_fasttexts_plain_sgd(tmp_path):
    """--weight-decay > 0 makes the tables dense, but it stays plain SGD: one
    step is w - lr·(g + wd·w) on every parameter, by hand (no momentum)."""
    from lsctl.train import data as data_mod
    from lsctl.train.loop import Trainer

    path = write_dataset(tmp_path / "train.parquet", n=48)
    lr, wd = 0.5, 0.05
    cfg = tiny_config(
        path, tmp_path / "run", model="fasttext", buckets=101, weight_decay=wd,
        batch_size=64, epochs=1, lr=lr, scheduler="constant", embed_dim=8,
    ).resolved()  # fmt: skip
    assert not cfg.sparse_embeddings
    t = Trainer(cfg, data_mod.load(cfg), write=False)
    group = t.optimizer.param_groups[0]
    assert isinstance(t.optimizer, torch.optim.SGD)
    assert (group["momentum"], group["weight_decay"]) == (0.0, wd)
    before = {k: v.detach().double().clone() for k, v in t.module.named_parameters()}
    t.module.zero_grad()
    t.batch_loss(t.global_batches(1)[0]).backward()
    grads = {n: p.grad.detach().double().clone() for n, p in t.module.named_parameters()}
    t.module.zero_grad()
    t.fit()  # one batch: one step
    for name, p in t.module.named_parameters():
        expected = before[name] - lr * (grads[name] + wd * before[name])
        torch.testing.assert_close(p.detach().double(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("how", "bound"), [("normal", 1 / 50), ("uniform", 0.25)])
def test_embed_init_sets_both_tables_as_recorded(how, bound):
    # U[-a, a] has sd a/sqrt(3); the word and bigram tables start alike.
    m = FastText(vocab_size=4000, num_labels=2, embed_dim=50, buckets=4000, embed_init=how)
    for table in (m.embedding.weight[1:], m.bigrams.weight):
        w = table.detach()
        assert float(w.abs().max()) <= bound
        assert float(w.std()) == pytest.approx(bound / np.sqrt(3), rel=0.02)
