"""Training throughput of TextCNN, BiLSTM and fastText in fp32 and bf16 (the GPU table).

Each cell is the median examples/s over the epochs after the first (allocator,
cuDNN and autocast warm-up), from ``lsctl.train.loop.train`` (what ``lsctl
train`` calls, writing a real run directory). bf16 is compared with fp32 of the
same model in the same invocation (ratio column).

    python benchmarks/gpu_throughput.py --data IMDB_TRAIN.parquet [--device cuda]
        [--models textcnn,lstm,fasttext] [--rows 10000] [--epochs 3]

On a machine without CUDA, ``--device cpu`` runs the same code (bf16 then falls
back to fp32, as ``lsctl train`` says): that is how the script is checked before
GPU time is spent.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile


def subset(path: str, rows: int, out: str) -> str:
    import numpy as np
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    if rows and rows < table.num_rows:
        idx = np.sort(np.random.default_rng(0).permutation(table.num_rows)[:rows])
        table = table.take(idx)
    pq.write_table(table, out)
    return out


def throughput(path: str, model: str, precision: str, epochs: int, device: str, tmp: str) -> float:
    from lsctl.train.config import TrainConfig
    from lsctl.train.loop import train

    cfg = TrainConfig(
        train=path,
        output=os.path.join(tmp, f"{model}-{precision}"),
        model=model,
        epochs=epochs,
        device=device,
        precision=precision,
        seed=0,
        cache=False,
    )
    history = train(cfg).history
    return statistics.median(r["examples_per_s"] for r in history[1:] or history)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--models", default="textcnn,lstm,fasttext")
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--epochs", type=int, default=3)
    a = ap.parse_args(argv)
    import torch

    if a.device == "cuda" and not torch.cuda.is_available():
        print(
            "Error: no CUDA device visible to torch; use --device cpu to check the script",
            file=sys.stderr,
        )
        return 1
    name = torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = subset(a.data, a.rows, os.path.join(tmp, "train.parquet"))
        for model in a.models.split(","):
            fp32 = throughput(data, model, "fp32", a.epochs, a.device, tmp)
            bf16 = throughput(data, model, "bf16", a.epochs, a.device, tmp)
            rows.append((model, fp32, bf16))
    print(f"\nthroughput on {name}, {a.rows} rows of {os.path.basename(a.data)}, {a.epochs} epochs")
    print(f"{'model':<10} {'fp32 ex/s':>12} {'bf16 ex/s':>12} {'bf16/fp32':>10}")
    for model, fp32, bf16 in rows:
        print(f"{model:<10} {fp32:>12.0f} {bf16:>12.0f} {bf16 / fp32:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
