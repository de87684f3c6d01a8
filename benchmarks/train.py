"""Training speed of `lsctl train` against minimal baselines run in the same invocation.

Run: .venv/bin/python benchmarks/train.py [--dataset trec] [--epochs 4] [--device cpu]
     [--hf-examples 192] [--hf-epochs 2] [--skip-hf] [--threads N]
     [--ft-dataset imdb] [--ft-rows 4000] [--ft-epochs 3] [--skip-fasttext] [--skip-loop]

1. TextCNN (emb 300, 3/4/5×100): examples/s of the lsctl loop (``lsctl.train.loop.train``,
   what the CLI calls, writing a real run directory) vs a minimal hand-written
   PyTorch loop over the *same* model class and the same pre-tensorized ids,
   once with torch's default AdamW and once with fused AdamW (lsctl's choice).
   Median over epochs; runs are interleaved so machine drift hits both.
   Target: ratio ≥ 0.95.
2. fastText vs TextCNN: examples/s of ``--model fasttext`` against ``--model
   textcnn``, each at its own defaults (fastText reads up to 1000 tokens per text,
   TextCNN 256), on the same ``--ft-rows`` rows of ``--ft-dataset`` (IMDb).
   Target: ratio ≥ 10.
3. hf:minilm (MiniLM-L6): lsctl with --label-smoothing 0.1 vs HF ``Trainer`` with
   ``label_smoothing_factor=0.1`` on the same subset, batch size, max length,
   lr and epochs (no evaluation, no checkpoints). Target: ratio ≥ 1.0.

The first epoch of each run is dropped (allocator and oneDNN warm-up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

from lsctl.train import data as data_mod
from lsctl.train.config import TrainConfig
from lsctl.train.features import batch as make_batch
from lsctl.train.loop import Trainer, epoch_order, train

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets")


def lsctl_textcnn(path: str, epochs: int, device: str, tmp: str, tag: str) -> list[float]:
    cfg = TrainConfig(
        train=path, output=os.path.join(tmp, tag), epochs=epochs, device=device, seed=0
    )
    result = train(cfg)
    return [r["examples_per_s"] for r in result.history[1:]]


def lsctl_model(path: str, model: str, epochs: int, device: str, tmp: str, tag: str) -> list[float]:
    """Examples/s per epoch after the first, at the model's own defaults."""
    cfg = TrainConfig(
        train=path, output=os.path.join(tmp, tag), model=model, epochs=epochs, device=device,
        seed=0, cache=False,
    )  # fmt: skip
    return [r["examples_per_s"] for r in train(cfg).history[1:]]


def hand_textcnn(path: str, epochs: int, device: str, fused: bool) -> list[float]:
    """The loop anyone would write: same model class, same tensors, CE, AdamW."""
    cfg = TrainConfig(train=path, output="unused", epochs=epochs, device=device, seed=0)
    t = Trainer(cfg, data_mod.load(cfg.resolved()), write=False)
    model, dev = t.module, t.device
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01, fused=fused or None)
    speeds = []
    for epoch in range(1, epochs + 1):
        model.train()
        order = epoch_order(len(t.train_y), 0, epoch)
        t0 = time.perf_counter()
        for start in range(0, len(order), 64):
            idx = order[start : start + 64]
            ids, mask = make_batch(t.train_ids, t.train_len, idx)
            logits, _ = model(ids.to(dev), mask.to(dev))
            loss = F.cross_entropy(logits, t.train_y[idx].to(dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        speeds.append(len(order) / (time.perf_counter() - t0))
    return speeds[1:]


def lsctl_hf(path: str, epochs: int, device: str, tmp: str, tag: str, bs: int) -> list[float]:
    cfg = TrainConfig(
        train=path,
        output=os.path.join(tmp, tag),
        model="hf:minilm",
        label_smoothing=0.1,
        epochs=epochs,
        batch_size=bs,
        max_length=64,
        lr=5e-5,
        device=device,
        seed=0,
        dev_split=0.1,
    )
    return [r["examples_per_s"] for r in train(cfg).history]


def hf_trainer(path: str, epochs: int, device: str, tmp: str, bs: int) -> list[float]:
    from datasets import Dataset
    from transformers import Trainer as HFTrainer
    from transformers import TrainingArguments

    from lsctl.train.models import load_hf

    cfg = TrainConfig(train=path, output="unused", dev_split=0.1, seed=0)
    data = data_mod.load(cfg.resolved())
    model, tok = load_hf("minilm", data.labels)
    enc = tok(data.train.texts, truncation=True, max_length=64)
    ds = Dataset.from_dict({**enc, "labels": data.train.y.tolist()})
    args = TrainingArguments(
        output_dir=os.path.join(tmp, "hf-trainer"),
        per_device_train_batch_size=bs,
        num_train_epochs=epochs,
        learning_rate=5e-5,
        label_smoothing_factor=0.1,
        lr_scheduler_type="linear",
        weight_decay=0.01,
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        logging_strategy="no",
        use_cpu=device == "cpu",
        dataloader_num_workers=0,
        seed=0,
        disable_tqdm=True,
    )
    trainer = HFTrainer(model=model.hf, args=args, train_dataset=ds, processing_class=tok)
    out = trainer.train()
    return [out.metrics["train_samples_per_second"]]


def subset(path: str, n: int, tmp: str) -> str:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    idx = np.random.default_rng(0).permutation(table.num_rows)[:n]
    out = os.path.join(tmp, f"subset{n}.parquet")
    pq.write_table(table.take(np.sort(idx)), out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="trec")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--hf-examples", type=int, default=192)
    ap.add_argument("--hf-epochs", type=int, default=2)
    ap.add_argument("--hf-batch", type=int, default=32)
    ap.add_argument("--skip-hf", action="store_true")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--ft-dataset", default="imdb")
    ap.add_argument("--ft-rows", type=int, default=4000)
    ap.add_argument("--ft-epochs", type=int, default=3)
    ap.add_argument("--skip-fasttext", action="store_true")
    ap.add_argument("--skip-loop", action="store_true", help="skip section 1 (the hand loops)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    path = os.path.join(SHARED, a.dataset, "train.parquet")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if not a.skip_loop:
            ours, hand, hand_fused = [], [], []
            for rep in range(2):  # interleaved
                ours += lsctl_textcnn(path, a.epochs, a.device, tmp, f"cnn{rep}")
                hand += hand_textcnn(path, a.epochs, a.device, fused=False)
                hand_fused += hand_textcnn(path, a.epochs, a.device, fused=True)
            m_ours = statistics.median(ours)
            rows.append(("textcnn", "hand loop, default AdamW", statistics.median(hand), m_ours))
            rows.append(
                ("textcnn", "hand loop, fused AdamW", statistics.median(hand_fused), m_ours)
            )
        if not a.skip_fasttext:
            ft_path = os.path.join(SHARED, a.ft_dataset, "train.parquet")
            ft_sub = subset(ft_path, a.ft_rows, tmp)
            cnn, ft = [], []
            for rep in range(2):  # interleaved
                cnn += lsctl_model(ft_sub, "textcnn", a.ft_epochs, a.device, tmp, f"ftc{rep}")
                ft += lsctl_model(ft_sub, "fasttext", a.ft_epochs, a.device, tmp, f"ftf{rep}")
            rows.append(
                (
                    "fasttext",
                    f"lsctl textcnn, {a.ft_dataset} {a.ft_rows} rows",
                    statistics.median(cnn),
                    statistics.median(ft),
                )
            )
        if not a.skip_hf:
            sub = subset(path, a.hf_examples, tmp)
            ours_hf = lsctl_hf(sub, a.hf_epochs, a.device, tmp, "hf0", a.hf_batch)
            base_hf = hf_trainer(sub, a.hf_epochs, a.device, tmp, a.hf_batch)
            rows.append(
                (
                    "hf:minilm",
                    "HF Trainer, label_smoothing_factor",
                    statistics.median(base_hf),
                    statistics.median(ours_hf),
                )
            )
    print(f"\ndataset={a.dataset} device={a.device} threads={torch.get_num_threads()}")
    print(f"{'model':<10} {'baseline':<36} {'baseline ex/s':>14} {'lsctl ex/s':>11} {'ratio':>6}")
    for model, base, b, o in rows:
        print(f"{model:<10} {base:<36} {b:>14.1f} {o:>11.1f} {o / b:>6.2f}")


if __name__ == "__main__":
    main()
