"""Kim's recipe on long documents: what lsctl does to the CPU step, against torch's defaults.

Run: .venv/bin/python benchmarks/adadelta.py [--dataset 20newsgroups] [--steps 20]
     [--block 5] [--threads 1]

Builds TextCNN with ``--preset kim2014`` (300-wide embeddings over the 50,000
most frequent words, batches of 50 texts of up to 256 tokens) on the dataset's
full TRAIN split, through lsctl's own ``Trainer``, then trains three copies of
it on the same batches:

- ``torch.optim.Adadelta``: the baseline (torch's Adadelta, glibc's defaults);
- ``RowSparseAdadelta``: lsctl's optimizer (``lsctl/train/adadelta.py``);
- ``+ reuse_large_blocks``: the same inside ``lsctl.train.cpu_memory``'s
  allocator setting, which is what ``lsctl train`` runs on CPU.

They alternate in blocks of ``--block`` steps so drift hits all three; the
first step of each block is not timed (a block may start on a trimmed heap).
Prints the median time of a whole step (forward, backward, update) and of the
update alone, the ratios, and whether the copies' weights are identical
afterwards (they must be).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import statistics
import time

import torch
import torch.nn.functional as F

from lsctl.train import data as data_mod
from lsctl.train.adadelta import RowSparseAdadelta
from lsctl.train.config import TrainConfig
from lsctl.train.cpu_memory import reuse_large_blocks
from lsctl.train.features import batch as make_batch
from lsctl.train.loop import Trainer, epoch_order

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="20newsgroups")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per optimizer")
    ap.add_argument("--block", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    src = os.path.join(SHARED, args.dataset, "train.parquet")
    if not os.path.exists(src):
        raise SystemExit(f"{src} not found (the shared datasets are needed)")
    torch.set_num_threads(args.threads)
    cfg = TrainConfig(train=src, output="unused", seed=0, cache=False, device="cpu")
    cfg = cfg.with_preset("kim2014").resolved()
    t = Trainer(cfg, data_mod.load(cfg), write=False)
    order = epoch_order(len(t.train_y), 0, 1)
    bs = cfg.batch_size
    batches = [order[i : i + bs] for i in range(0, len(order) - bs + 1, bs)]
    vocab = t.module.embedding.num_embeddings

    base, rows, held = (
        "torch.optim.Adadelta",
        "RowSparseAdadelta",
        "RowSparseAdadelta + reuse_large_blocks",
    )
    models = {name: copy.deepcopy(t.module) for name in (base, rows, held)}
    # The hyperparameters lsctl's Trainer gave its own optimizer (Kim's rho and eps).
    kw = {k: t.optimizer.defaults[k] for k in ("lr", "rho", "eps", "weight_decay")}
    opts = {base: torch.optim.Adadelta(models[base].parameters(), **kw)}
    for name in (rows, held):
        m = models[name]
        opts[name] = RowSparseAdadelta(m.parameters(), row_sparse=[m.embedding.weight], **kw)
    step_s: dict[str, list[float]] = {n: [] for n in models}
    update_s: dict[str, list[float]] = {n: [] for n in models}
    warm = 2 * args.block  # allocator and oneDNN warm-up, not timed
    total = warm + args.steps
    for start in range(0, total, args.block):
        for name, model in models.items():
            model.train()
            memory = reuse_large_blocks() if name == held else contextlib.nullcontext()
            with memory:
                for i in range(start, min(start + args.block, total)):
                    idx = batches[i % len(batches)]
                    ids, mask = make_batch(t.train_ids, t.train_len, idx)
                    torch.manual_seed(i)  # the same dropout masks for every copy
                    t0 = time.perf_counter()
                    opts[name].zero_grad(set_to_none=True)
                    logits, _ = model(ids, mask)
                    F.cross_entropy(logits, t.train_y[idx]).backward()
                    t1 = time.perf_counter()
                    opts[name].step()
                    t2 = time.perf_counter()
                    if i >= warm and i > start:
                        step_s[name].append(t2 - t0)
                        update_s[name].append(t2 - t1)
    states = [m.state_dict() for m in models.values()]
    same = all(torch.equal(st[k], states[0][k]) for st in states[1:] for k in states[0])
    base_step = statistics.median(step_s[base])
    base_upd = statistics.median(update_s[base])
    print(
        f"\nTextCNN --preset kim2014 on {args.dataset} ({len(t.train_y)} rows, vocabulary "
        f"{vocab}), batch {bs}, {args.threads} thread(s), {args.steps} steps each, "
        f"{len(step_s[base])} timed\n"
    )
    print("| case | step ms | update ms | examples/s | step vs torch | update vs torch |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in models:
        st, up = statistics.median(step_s[name]), statistics.median(update_s[name])
        print(
            f"| {name} | {st * 1e3:.0f} | {up * 1e3:.1f} | {bs / st:.0f} "
            f"| {st / base_step:.2f}x | {up / base_upd:.2f}x |"
        )
    print(f"\nweights identical after {total} steps: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
