"""The Kim 2014 recipe: max-norm, Adadelta, the preset, padding, pretrained embeddings."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trainkit import WORDS, tiny_config, write_dataset

RHO, EPS = 0.95, 1e-6


def _trainer(tmp_path, **kw):
    from lsctl.train import data as data_mod
    from lsctl.train.loop import Trainer

    tmp_path.mkdir(parents=True, exist_ok=True)
    data = write_dataset(tmp_path / "train.parquet", n=48)
    # One batch per epoch: one epoch is exactly one optimizer step.
    opts = {"batch_size": 64, "epochs": 1, **kw}
    cfg = tiny_config(data, tmp_path / "run", **opts).resolved()
    return Trainer(cfg, data_mod.load(cfg), write=False)


def _params(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


# -- max-norm ---------------------------------------------------------------------


def test_max_norm_rescales_only_rows_above_the_cap():
    from lsctl.train.models import TextCNN, apply_max_norm

    model = TextCNN(10, 3, embed_dim=4, num_filters=2)
    w = np.array([[3.0, 4.0, 0, 0, 0, 0], [0.3, 0.4, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1.0]])
    with torch.no_grad():
        model.classifier.weight.copy_(torch.tensor(w))
    apply_max_norm(model, 2.0)
    # by hand: row 0 has norm 5 -> scaled by 2/5; row 1 (0.5) kept; row 2 (sqrt 6) by 2/sqrt 6
    expected = np.array([w[0] * 2 / 5, w[1], w[2] * 2 / np.sqrt(6)])
    np.testing.assert_allclose(model.classifier.weight.detach().numpy(), expected, rtol=1e-6)


def test_max_norm_holds_after_a_step_and_equals_capping_the_unconstrained_step(tmp_path):
    free = _trainer(tmp_path / "a", dropout=0.0)
    free.fit()
    capped = _trainer(tmp_path / "b", dropout=0.0, max_norm=0.05)
    capped.fit()
    w = free.module.classifier.weight.detach().numpy().astype(np.float64)
    norms = np.sqrt((w**2).sum(axis=1))
    assert (norms > 0.05).any(), "the cap must bind for this test to mean anything"
    expected = np.array([row * min(1.0, 0.05 / n) for row, n in zip(w, norms, strict=True)])
    got = capped.module.classifier.weight.detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    assert np.sqrt((got.astype(np.float64) ** 2).sum(axis=1)).max() <= 0.05 + 1e-6
    # the constraint touches the output weights only
    a, b = _params(free.module), _params(capped.module)
    for k in a:
        if not k.startswith("classifier.weight"):
            torch.testing.assert_close(a[k], b[k])


# -- Adadelta -----------------------------------------------------------------------


def test_adadelta_is_used_when_asked_and_takes_zeilers_first_step(tmp_path):
    t = _trainer(tmp_path, optimizer="adadelta", dropout=0.0, weight_decay=0.0)
    assert isinstance(t.optimizer, torch.optim.Adadelta)
    group = t.optimizer.param_groups[0]
    assert group["lr"] == 1.0 and group["rho"] == RHO and group["eps"] == EPS
    before = _params(t.module)
    idx = t.global_batches(1)[0]
    t.module.zero_grad()
    t.batch_loss(idx).backward()
    grads = {n: p.grad.detach().double().clone() for n, p in t.module.named_parameters()}
    t.module.zero_grad()
    t.fit()
    after = _params(t.module)
    for name, g in grads.items():
        # Zeiler 2012, first step from zero accumulators, lr 1:
        # E[g²] = (1-ρ)g², Δ = sqrt(0 + ε) / sqrt(E[g²] + ε) · g
        step = np.sqrt(EPS) / np.sqrt((1 - RHO) * g.numpy() ** 2 + EPS) * g.numpy()
        expected = before[name].double().numpy() - step
        np.testing.assert_allclose(after[name].double().numpy(), expected, rtol=1e-4, atol=1e-7)


def test_adamw_stays_the_default(tmp_path):
    t = _trainer(tmp_path)
    assert isinstance(t.optimizer, torch.optim.AdamW)


# -- the preset -----------------------------------------------------------------------


def test_kim2014_preset_sets_the_papers_values_and_explicit_options_win():
    from lsctl.train.config import TrainConfig

    c = TrainConfig(train="t.parquet", output="r").with_preset("kim2014").resolved()
    # Kim 2014 §2.1 and §3.1 (and his code for Adadelta's rho and the padding)
    assert (c.batch_size, c.optimizer, c.lr, c.max_norm, c.dropout) == (
        50,
        "adadelta",
        1.0,
        3.0,
        0.5,
    )
    assert (c.weight_decay, c.scheduler, c.embed_init, c.conv_padding) == (
        0.0,
        "constant",
        "uniform",
        "full",
    )
    assert c.epochs == 25 and c.embed_dim == 300 and c.preset == "kim2014"
    kept = TrainConfig(train="t", output="r", batch_size=64).with_preset(
        "kim2014", keep={"batch_size"}
    )
    assert kept.batch_size == 64 and kept.optimizer == "adadelta"
    # Another optimizer takes its own default lr, not Adadelta's 1.0 ...
    for opt, lr in (("adamw", 1e-3), ("sgd", 1e-3)):
        c = TrainConfig(train="t", output="r", optimizer=opt).with_preset(
            "kim2014", keep={"optimizer"}
        )
        assert (c.resolved().optimizer, c.resolved().lr) == (opt, lr)
    # ... unless --lr is given too.
    c = TrainConfig(train="t", output="r", optimizer="sgd", lr=0.1).with_preset(
        "kim2014", keep={"optimizer", "lr"}
    )
    assert c.resolved().lr == 0.1


def test_kim2014_model_has_three_filter_widths_of_100_maps():
    from lsctl.train.models import build_scratch

    m = build_scratch("textcnn", 50, 6, 300, 128, 0.5, conv_padding="full")
    assert [c.kernel_size[0] for c in m.convs] == [3, 4, 5]
    assert all(c.out_channels == 100 for c in m.convs)
    assert m.classifier.in_features == 300


def test_cli_preset_keeps_options_given_on_the_command_line(cli, tmp_path):
    data = write_dataset(tmp_path / "train.parquet", n=40)
    r = cli(
        "train",
        data,
        "-o",
        tmp_path / "run",
        "--preset",
        "kim2014",
        "--epochs",
        "1",
        "--embed-dim",
        "8",
        "--batch-size",
        "64",
        "--device",
        "cpu",
        "--quiet",
    )
    assert r.exit_code == 0, r.stderr
    opts = json.loads((tmp_path / "run" / "config.json").read_text())["options"]
    assert (opts["epochs"], opts["embed_dim"], opts["batch_size"]) == (1, 8, 64)
    assert (opts["optimizer"], opts["max_norm"], opts["conv_padding"]) == ("adadelta", 3.0, "full")
    assert opts["preset"] == "kim2014"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "kim2015"], "--preset 'kim2015': choose one of kim2014"),
        (["--optimizer", "adam"], "--optimizer: choose adamw, sgd or adadelta"),
        (["--freeze-embeddings"], "--freeze-embeddings needs --embeddings"),
        (["--max-norm", "-1"], "--max-norm must be >= 0"),
        (["--conv-padding", "same"], "--conv-padding: choose valid or full"),
    ],
)
def test_recipe_usage_errors(cli, tmp_path, args, message):
    data = write_dataset(tmp_path / "train.parquet", n=30)
    r = cli("train", data, "-o", tmp_path / "run", "--epochs", "1", "--device", "cpu", *args)
    assert r.exit_code == 2, r.stderr
    assert r.stderr.startswith("Error:") and message in r.stderr
    assert "Traceback" not in r.stderr


# -- padding ---------------------------------------------------------------------------


def _one_word_features(model, word_id: int, conv_padding: str) -> np.ndarray:
    """Max-over-time features of a one-word text, by hand from the conv weights."""
    e = model.embedding.weight[word_id].detach().double().numpy()
    out = []
    for conv in model.convs:
        w = conv.weight.detach().double().numpy()  # maps x dim x k
        b = conv.bias.detach().double().numpy()
        k = w.shape[2]
        # full: the word sits at each of the k filter positions in turn (zeros
        # elsewhere); valid: only the first window, word at position 0.
        positions = range(k) if conv_padding == "full" else [0]
        acts = [np.maximum(w[:, :, j] @ e + b, 0) for j in positions]
        out.append(np.max(acts, axis=0))
    return np.concatenate(out)


@pytest.mark.parametrize("conv_padding", ["full", "valid"])
def test_a_one_word_text_fits_every_filter(conv_padding):
    from lsctl.train.features import batch, pad
    from lsctl.train.models import TextCNN

    torch.manual_seed(0)
    model = TextCNN(20, 3, embed_dim=6, num_filters=4, conv_padding=conv_padding).eval()
    ids, lengths = pad([[7], [3, 4, 5, 6, 8, 9, 10, 11]], 0, max_length=16, min_length=5)
    alone_ids, alone_len = pad([[7]], 0, max_length=16, min_length=5)
    # short texts are padded to the widest filter (5), alone or in a batch
    assert alone_ids.shape[1] >= max(model.filter_sizes)
    sub, mask = batch(alone_ids, alone_len, torch.tensor([0]))
    assert sub.shape[1] >= 5 and mask.sum() == 1
    with torch.no_grad():
        f_alone = model.features(sub, mask)[0].double().numpy()
        sub2, mask2 = batch(ids, lengths, torch.tensor([0, 1]))
        f_batch = model.features(sub2, mask2)[0].double().numpy()
    expected = _one_word_features(model, 7, conv_padding)
    np.testing.assert_allclose(f_alone, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(f_batch, expected, rtol=1e-5, atol=1e-6)


def test_full_padding_ignores_a_nonzero_pad_row():
    from lsctl.train.models import TextCNN

    torch.manual_seed(1)
    model = TextCNN(20, 3, embed_dim=6, num_filters=4, conv_padding="full").eval()
    ids = torch.tensor([[5, 6, 0, 0, 0, 0]])
    mask = ids != 0
    with torch.no_grad():
        before = model.features(ids, mask)
        model.embedding.weight[0] = 3.0  # e.g. a pretrained row copied over the pad id
        after = model.features(ids, mask)
    torch.testing.assert_close(before, after)


# -- pretrained embeddings ---------------------------------------------------------------


def _vectors(words: list[str], dim: int, seed: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {w: rng.normal(size=dim).astype(np.float32) for w in words}


def write_glove(path, vecs: dict[str, np.ndarray], header: bool = False):
    with open(path, "w", encoding="utf-8") as f:
        if header:
            f.write(f"{len(vecs)} {len(next(iter(vecs.values())))}\n")
        for w, v in vecs.items():
            f.write(w + " " + " ".join(repr(float(x)) for x in v) + "\n")
    return path


def write_word2vec_bin(path, vecs: dict[str, np.ndarray]):
    """The format of Mikolov's word2vec.c: header, then 'word ' + float32s + newline."""
    dim = len(next(iter(vecs.values())))
    with open(path, "wb") as f:
        f.write(f"{len(vecs)} {dim}\n".encode())
        for w, v in vecs.items():
            f.write(w.encode() + b" " + struct.pack(f"<{dim}f", *v) + b"\n")
    return path


@pytest.mark.parametrize("fmt", ["glove", "word2vec-text", "word2vec-binary"])
def test_load_vectors_fills_in_vocabulary_words(tmp_path, fmt):
    from lsctl.train.embeddings import load_vectors

    vecs = _vectors(["pasta", "Goal", "goal", "zebra", "chip"], 4)
    path = tmp_path / "vec"
    if fmt == "glove":
        write_glove(path, vecs)
    elif fmt == "word2vec-text":
        write_glove(path, vecs, header=True)
    else:
        write_word2vec_bin(path, vecs)
    itos = ["<pad>", "<unk>", "pasta", "goal", "chip", "salad"]
    loaded = load_vectors(str(path), itos, 4, seed=0)
    assert loaded.fmt == ("word2vec-binary" if fmt == "word2vec-binary" else "text")
    m = loaded.matrix
    np.testing.assert_array_equal(m[2], vecs["pasta"])
    np.testing.assert_array_equal(m[3], vecs["goal"])  # the exact match beats "Goal"
    np.testing.assert_array_equal(m[4], vecs["chip"])
    assert loaded.found == 3
    assert not m[0].any()  # pad
    for row in (m[1], m[5]):  # unk and the word the file lacks: Kim's U[-0.25, 0.25]
        assert np.abs(row).max() <= 0.25 and np.abs(row).max() > 0


def test_a_cased_file_fills_lowercase_vocabulary_words(tmp_path):
    from lsctl.train.embeddings import load_vectors

    vecs = _vectors(["Pasta", "Chip"], 3)
    path = write_word2vec_bin(tmp_path / "v.bin", vecs)
    m = load_vectors(str(path), ["<pad>", "<unk>", "pasta", "chip"], 3).matrix
    np.testing.assert_array_equal(m[2], vecs["Pasta"])
    np.testing.assert_array_equal(m[3], vecs["Chip"])


def test_embedding_dimension_mismatch_is_one_error(cli, tmp_path):
    data = write_dataset(tmp_path / "train.parquet", n=30)
    vec = write_glove(tmp_path / "v.txt", _vectors(["pasta", "goal"], 4))
    r = cli(
        "train", data, "-o", tmp_path / "run", "--embeddings", vec, "--embed-dim", "8",
        "--epochs", "1", "--device", "cpu",
    )  # fmt: skip
    assert r.exit_code == 1, r.stderr
    assert r.stderr.startswith("Error:") and "pass --embed-dim 4" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("fmt", ["glove", "word2vec-binary"])
def test_embeddings_reach_the_model_and_freezing_keeps_them(tmp_path, fmt):
    every = [w for ws in WORDS.values() for w in ws]
    vecs = _vectors(every[:10], 16)  # the model's embed_dim is 16 (tiny_config)
    path = tmp_path / "vec"
    (write_glove if fmt == "glove" else write_word2vec_bin)(path, vecs)
    t = _trainer(tmp_path, embeddings=str(path), freeze_embeddings=True)
    emb = t.module.embedding.weight
    assert not emb.requires_grad
    # The record says where the words start, not --embed-init's draw.
    assert t.model_info["embed_init"].startswith("pretrained (vec)")
    for w, v in vecs.items():
        np.testing.assert_array_equal(emb[t.vocab.stoi[w]].detach().numpy(), v)
    before = _params(t.module)
    t.fit()
    after = _params(t.module)
    torch.testing.assert_close(after["embedding.weight"], before["embedding.weight"])
    assert not torch.equal(after["classifier.weight"], before["classifier.weight"])


def test_unfrozen_embeddings_are_trained(tmp_path):
    vecs = _vectors(["pasta", "goal", "chip"], 16)
    path = write_glove(tmp_path / "v.txt", vecs)
    t = _trainer(tmp_path, embeddings=str(path))
    before = t.module.embedding.weight.detach().clone()
    t.fit()
    assert not torch.equal(t.module.embedding.weight.detach(), before)
