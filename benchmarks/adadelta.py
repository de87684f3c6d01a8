"""Kim's recipe on long documents: lsctl's row-sparse Adadelta against torch's Adadelta.

Run: .venv/bin/python benchmarks/adadelta.py [--dataset 20newsgroups] [--rows 1000]
     [--epochs 3] [--repeats 2] [--threads 1]

Trains TextCNN with ``--preset kim2014`` (300-wide embeddings over a 50,000-word
vocabulary, Adadelta) through ``lsctl.train.loop.train``, the function the CLI
calls, on the same ``--rows`` rows of the dataset's TRAIN split. The baseline
is the same loop with ``torch.optim.Adadelta`` in place of lsctl's optimizer;
the two alternate (baseline, lsctl, baseline, …) so drift hits both. Prints
the median examples/s over the epochs after the first of every run, the ratio,
and whether the trained weights are identical (they must be).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

import numpy as np
import pyarrow.parquet as pq
import torch

from lsctl.train import loop
from lsctl.train.adadelta import RowSparseAdadelta
from lsctl.train.config import TrainConfig

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets")


def torch_adadelta(params, row_sparse, **kw):
    return torch.optim.Adadelta(params, **kw)


def run(path: str, out: str, epochs: int, threads: int, optimizer) -> tuple[list[float], dict]:
    loop.RowSparseAdadelta = optimizer
    cfg = TrainConfig(
        train=path, output=out, epochs=epochs, threads=threads, seed=0, cache=False,
        device="cpu", dev_split=0.1,
    ).with_preset("kim2014", keep={"epochs"})  # fmt: skip
    result = loop.train(cfg)
    return [r["examples_per_s"] for r in result.history[1:]], result.model.state_dict()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="20newsgroups")
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    src = os.path.join(SHARED, args.dataset, "train.parquet")
    if not os.path.exists(src):
        raise SystemExit(f"{src} not found (the shared datasets are needed)")
    cases = {"torch.optim.Adadelta": torch_adadelta, "lsctl RowSparseAdadelta": RowSparseAdadelta}
    speeds: dict[str, list[float]] = {name: [] for name in cases}
    weights: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        table = pq.read_table(src)
        keep = np.sort(np.random.default_rng(0).permutation(table.num_rows)[: args.rows])
        path = os.path.join(tmp, "train.parquet")
        pq.write_table(table.take(keep), path)
        for rep in range(args.repeats):
            for i, (name, opt) in enumerate(cases.items()):
                got, weights[name] = run(path, f"{tmp}/r{rep}-{i}", args.epochs, args.threads, opt)
                speeds[name].extend(got)
    loop.RowSparseAdadelta = RowSparseAdadelta
    a, b = weights.values()
    same = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    base = statistics.median(speeds["torch.optim.Adadelta"])
    print(
        f"\nTextCNN --preset kim2014, {args.dataset} {args.rows} rows, {args.threads} thread(s), "
        f"{args.repeats} runs x {args.epochs - 1} timed epochs each\n"
    )
    print("| optimizer | examples/s (median) | vs torch |\n|---|---:|---:|")
    for name, s in speeds.items():
        med = statistics.median(s)
        print(f"| {name} | {med:.1f} | {med / base:.2f}x |")
    print(f"\ntrained weights identical: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
