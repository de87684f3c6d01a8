"""`lsctl train`: every training option takes effect, observed from outside the loop.

Each test runs the command on a tiny dataset (60 rows, TextCNN with 8-dim
embeddings, 1–2 epochs, one thread) and watches what reaches torch: a global
optimizer step pre-hook sees the learning rate, weight decay and gradient
norm of every step (after clipping, before the update), and a forward
pre-hook on the model sees every evaluation batch.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

CLASS_WORDS = {
    "food": ["pasta", "salad", "bread", "soup", "rice"],
    "sport": ["goal", "match", "team", "score", "coach"],
    "tech": ["chip", "code", "robot", "data", "laptop"],
}
LABELS = sorted(CLASS_WORDS)
N_TRAIN = 60
BATCH = 16


def _texts(n: int, tail: bool) -> tuple[list[str], list[str]]:
    """Three class words per text; with ``tail``, words seen exactly twice (x*) and once (y*)."""
    texts, gold = [], []
    for i in range(n):
        lab = LABELS[i % 3]
        ws = CLASS_WORDS[lab]
        words = [ws[i % 5], ws[(i + 2) % 5], CLASS_WORDS[LABELS[(i + 1) % 3]][i % 5]]
        if tail:
            words.append(f"x{i // 2}" if i < 40 else f"y{i}")
        texts.append(" ".join(words))
        gold.append(lab)
    return texts, gold


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("trainopts")
    texts, gold = _texts(N_TRAIN, tail=True)
    pq.write_table(pa.table({"text": texts, "label": gold}), d / "train.parquet")
    dev_texts, dev_gold = _texts(30, tail=False)
    pq.write_table(pa.table({"text": dev_texts, "label": dev_gold}), d / "dev.parquet")
    return {"train": d / "train.parquet", "dev": d / "dev.parquet", "texts": texts}


@pytest.fixture(autouse=True)
def _restore_threads():
    old = torch.get_num_threads()
    yield
    torch.set_num_threads(old)


@pytest.fixture
def steps():
    """Per optimizer step: lr, weight decay and total gradient norm of the first param group."""
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    seen: list[dict[str, float]] = []

    def hook(optimizer, args, kwargs):
        group = optimizer.param_groups[0]
        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        norm = math.sqrt(sum(float(g.double().pow(2).sum()) for g in grads))
        seen.append({"lr": group["lr"], "weight_decay": group["weight_decay"], "norm": norm})

    handle = register_optimizer_step_pre_hook(hook)
    yield seen
    handle.remove()


@pytest.fixture
def eval_batches(monkeypatch):
    """Rows of every forward pass the model makes in eval mode (dev scoring)."""
    from lsctl.train import models

    seen: list[int] = []
    build = models.build_scratch

    def spy(*args, **kwargs):
        model = build(*args, **kwargs)

        def pre(module, inputs):
            if not module.training:
                seen.append(int(inputs[0].shape[0]))

        model.register_forward_pre_hook(pre)
        return model

    monkeypatch.setattr(models, "build_scratch", spy)
    return seen


def _train(cli, data, out, *args, dev=True):
    argv = ["train", data["train"], "-o", out, "--epochs", "2", "--batch-size", BATCH]
    argv += ["--embed-dim", "8", "--max-length", "12", "--device", "cpu", "--seed", "1"]
    if "--threads" not in args:
        argv += ["--threads", "1"]
    if dev:
        argv += ["--dev", data["dev"]]
    r = cli(*argv, *args, "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def _steps_per_epoch(n: int) -> int:
    return -(-n // BATCH)


@pytest.mark.parametrize("scheduler", ["linear", "constant"])
def test_learning_rate_per_step_follows_warmup_and_scheduler(cli, data, tmp_path, steps, scheduler):
    lr, ratio = 0.01, 0.3
    _train(cli, data, tmp_path / "r", "--lr", lr, "--warmup-ratio", ratio, "--scheduler", scheduler)
    total = 2 * _steps_per_epoch(N_TRAIN)
    warm = round(ratio * total)
    assert (total, warm) == (8, 2)
    # Warm-up: step s (from 0) runs at (s+1)/W of --lr, so the last warm-up step
    # reaches --lr; then linear decays to 0 at the end, constant stays.
    want = []
    for s in range(total):
        if s < warm:
            want.append(lr * (s + 1) / warm)
        elif scheduler == "constant":
            want.append(lr)
        else:
            want.append(lr * (total - s) / (total - warm))
    assert [x["lr"] for x in steps] == pytest.approx(want, rel=1e-12)


def test_grad_clip_caps_the_gradient_norm(cli, data, tmp_path, steps):
    clip = 0.05
    _train(cli, data, tmp_path / "free", "--epochs", "1")
    free = [x["norm"] for x in steps]
    assert max(free) > 2 * clip  # so the cap binds on this data
    steps.clear()
    _train(cli, data, tmp_path / "clipped", "--epochs", "1", "--grad-clip", clip)
    clipped = [x["norm"] for x in steps]
    assert len(clipped) == len(free) == _steps_per_epoch(N_TRAIN)
    assert all(n <= clip * (1 + 1e-5) for n in clipped), clipped
    # The first step sees the same batch and weights in both runs: its norm is the cap.
    assert clipped[0] == pytest.approx(clip, rel=1e-4)


def test_weight_decay_reaches_the_optimizer(cli, data, tmp_path, steps):
    _train(cli, data, tmp_path / "r", "--epochs", "1", "--weight-decay", "0.123")
    assert steps and all(x["weight_decay"] == 0.123 for x in steps)
    steps.clear()
    _train(cli, data, tmp_path / "s", "--epochs", "1", "--optimizer", "sgd", "--weight-decay", "0")
    assert steps and all(x["weight_decay"] == 0.0 for x in steps)


def _vocab(run) -> list[str]:
    return json.loads((run / "vocab.json").read_text())["itos"]


def test_vocab_size_and_min_count_give_the_vocabulary_they_say(cli, data, tmp_path):
    counts = Counter(w for t in data["texts"] for w in t.split())
    assert sorted(set(counts.values()))[:2] == [1, 2]  # the tail the options cut

    for m in (1, 2, 3):
        run = tmp_path / f"min{m}"
        summary = _train(cli, data, run, "--epochs", "1", "--min-count", m)
        itos = _vocab(run)
        assert itos[:2] == ["<pad>", "<unk>"]
        assert sorted(itos[2:]) == sorted(w for w, c in counts.items() if c >= m)
        assert summary["run"] == str(run)
        cfg = json.loads((run / "config.json").read_text())
        assert cfg["model"]["vocab_size"] == len(itos)

    run = tmp_path / "v10"
    _train(cli, data, run, "--epochs", "1", "--vocab-size", "10")
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    assert _vocab(run) == ["<pad>", "<unk>", *ranked[:8]]
    weights = json.loads((run / "config.json").read_text())["model"]
    assert weights["vocab_size"] == 10


def test_dev_split_gives_the_dev_size_it_says(cli, data, tmp_path, eval_batches):
    for share in (0.1, 0.25):
        eval_batches.clear()
        s = _train(
            cli, data, tmp_path / f"d{share}", "--epochs", "1", "--dev-split", share, dev=False
        )
        # Stratified: round(share · 20) of each of the 3 classes of 20.
        want = 3 * round(share * N_TRAIN / 3)
        assert (s["dev_examples"], s["train_examples"]) == (want, N_TRAIN - want)
        assert sum(eval_batches) == want


def test_eval_batch_size_sets_the_dev_batches(cli, data, tmp_path, eval_batches):
    _train(cli, data, tmp_path / "r", "--eval-batch-size", "7")
    # Two epochs, each scoring the 30 dev rows in batches of at most 7.
    assert eval_batches == [7, 7, 7, 7, 2] * 2


def test_threads_sets_torchs_thread_count(cli, data, tmp_path):
    torch.set_num_threads(2)
    _train(cli, data, tmp_path / "r", "--epochs", "1", "--threads", "1")
    assert torch.get_num_threads() == 1


@pytest.fixture
def built(monkeypatch):
    """The models ``lsctl train`` builds."""
    from lsctl.train import models

    seen: list[torch.nn.Module] = []
    build = models.build_scratch

    def spy(*args, **kwargs):
        seen.append(build(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(models, "build_scratch", spy)
    return seen


@pytest.mark.parametrize(("model", "default"), [("textcnn", 0.5), ("lstm", 0.3)])
def test_dropout_and_hidden_shape_the_model(cli, data, tmp_path, built, model, default):
    _train(
        cli,
        data,
        tmp_path / "r",
        "--epochs",
        "1",
        "-m",
        model,
        "--dropout",
        "0.15",
        *(["--hidden", "5"] if model == "lstm" else []),
    )
    (net,) = built
    rates = [m.p for m in net.modules() if isinstance(m, torch.nn.Dropout)]
    assert rates and all(p == 0.15 for p in rates) and default != 0.15
    lstms = [m for m in net.modules() if isinstance(m, torch.nn.LSTM)]
    if model == "lstm":
        assert [m.hidden_size for m in lstms] == [5]
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (cfg["model"]["dropout"], cfg["options"]["hidden"]) == (
        0.15,
        5 if model == "lstm" else 128,
    )


def test_patience_stops_after_that_many_epochs_without_dev_gain(cli, data, tmp_path, monkeypatch):
    from lsctl.train import loop

    dev_gold = _texts(30, tail=False)[1]
    dev_y = torch.tensor([LABELS.index(g) for g in dev_gold])
    accuracies = [0.5, 0.6, 0.6, 0.5, 0.9, 0.9]
    calls = []

    def scripted(module, ids, *args, **kwargs):
        # Dev logits with the epoch's scripted accuracy: the first rows right, the rest wrong.
        right = round(accuracies[len(calls)] * len(dev_y))
        calls.append(right)
        pred = torch.where(torch.arange(len(dev_y)) < right, dev_y, (dev_y + 1) % 3)
        return torch.nn.functional.one_hot(pred, 3).float() * 5

    monkeypatch.setattr(loop, "compute_logits", scripted)
    s = _train(cli, data, tmp_path / "p2", "--epochs", "6", "--patience", "2")
    # Best at epoch 2; epochs 3 (a tie is no gain) and 4 are the two without gain.
    assert (s["epochs_run"], s["best_epoch"], s["stopped"]) == (4, 2, "early-stopped")
    calls.clear()
    s = _train(cli, data, tmp_path / "p0", "--epochs", "6")
    assert (s["epochs_run"], s["best_epoch"], s["stopped"]) == (6, 5, "completed")


def test_tokenizer_whitespace_keeps_case_and_punctuation(cli, tmp_path):
    texts = [f"Great, {w}!" if i % 2 else f"awful {w} ." for i, w in enumerate(["x", "y"] * 15)]
    gold = ["pos" if i % 2 else "neg" for i in range(30)]
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": texts, "label": gold}), path)
    itos = {}
    for tok in ("words", "whitespace"):
        run = tmp_path / tok
        args = ["train", path, "-o", run, "--epochs", "1", "--embed-dim", "4", "--threads", "1"]
        r = cli(*args, "--device", "cpu", "--tokenizer", tok, "-q")
        assert r.exit_code == 0, r.stderr
        itos[tok] = set(_vocab(run)[2:])
    # words: lowercase \w+; whitespace: text.split(' '), as the KWLS authors'.
    assert itos["words"] == {w for t in texts for w in re.findall(r"\w+", t.lower())}
    assert itos["whitespace"] == {w for t in texts for w in t.split(" ")}
    assert "Great," in itos["whitespace"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--grad-clip", "-1"], "--grad-clip"),
        (["--dev-split", "0"], "--dev-split"),
        (["--dev-split", "1"], "--dev-split"),
        (["--vocab-size", "1"], "--vocab-size"),
        (["--min-count", "0"], "--min-count"),
        (["--threads", "0"], "--threads"),
        (["--eval-batch-size", "0"], "--eval-batch-size"),
        (["--scheduler", "cosine"], "--scheduler"),
        (["--warmup-ratio", "1"], "--warmup-ratio"),
    ],
)
def test_bad_training_option_values_are_one_usage_error(cli, data, tmp_path, args, needle):
    r = cli("train", data["train"], "-o", tmp_path / "r", *args)
    assert r.exit_code == 2, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and needle in lines[0], r.stderr
    assert not (tmp_path / "r").exists()


def test_precision_bf16_on_the_cpu_trains_in_fp32_with_a_note(cli, data, tmp_path, built):
    argv = ["train", data["train"], "-o", tmp_path / "r", "--dev", data["dev"], "--epochs", "1"]
    argv += ["--embed-dim", "8", "--device", "cpu", "--threads", "1", "--precision", "bf16"]
    r = cli(*argv)
    assert r.exit_code == 0, r.stderr
    assert "--precision bf16 applies on CUDA only" in r.stderr
    assert all(p.dtype == torch.float32 for p in built[0].parameters())


@pytest.fixture
def initial_embeddings(monkeypatch):
    """The embedding matrix of each model ``lsctl train`` builds, as built (before training)."""
    from lsctl.train import models

    seen: list[torch.Tensor] = []
    build = models.build_scratch

    def spy(*args, **kwargs):
        model = build(*args, **kwargs)
        seen.append(model.embedding.weight.detach().clone())
        return model

    monkeypatch.setattr(models, "build_scratch", spy)
    return seen


def test_embed_init_draws_the_embeddings_it_names(cli, data, tmp_path, initial_embeddings):
    for init in ("normal", "uniform"):
        _train(
            cli, data, tmp_path / init, "--epochs", "1", "--embed-dim", "50", "--embed-init", init
        )
    normal, uniform = (w[1:] for w in initial_embeddings)  # row 0 is the padding vector
    # U[-0.25, 0.25] stays in its bounds with sd 0.5/√12; N(0, 1) has sd 1.
    assert uniform.abs().max() <= 0.25 and uniform.std() == pytest.approx(0.5 / 12**0.5, rel=0.1)
    assert normal.abs().max() > 1 and normal.std() == pytest.approx(1.0, rel=0.1)
