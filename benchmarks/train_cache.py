"""Time before the first training step, with an empty and with a filled tokenized-data cache.

Each measurement is a fresh process that reads TRAIN, splits off dev and
builds the Trainer (vocabulary, id tensors, model, optimizer): everything
`lsctl train` does before its first step. ``cold`` uses an empty cache
folder (a first run: tokenize, build the vocabulary, pad, and store the
entry); ``warm`` uses a folder the first run filled (a second run of a grid);
``no cache`` is ``--no-cache`` (what lsctl did before the cache). Rounds
interleave the three so that machine drift hits all of them; medians.

    python benchmarks/train_cache.py [--dataset imdb] [--model textcnn] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LSCTL_SHARED", REPO.parent / "shared")) / "datasets"

SNIPPET = r"""
import sys, time
t0 = time.perf_counter()
from lsctl.train import data as data_mod
from lsctl.train.config import TrainConfig
from lsctl.train.loop import Trainer
cfg = TrainConfig(train=sys.argv[1], output=sys.argv[2], model=sys.argv[3],
                  cache=sys.argv[4] == "1", device="cpu", seed=0)
t1 = time.perf_counter()
t = Trainer(cfg, data_mod.load(cfg.resolved()), write=False)
t2 = time.perf_counter()
print(f"{t2 - t1:.4f} {t.tensor_cache}")
"""


def measure(train: Path, model: str, cache_dir: str, cache: bool, tmp: str) -> tuple[float, str]:
    env = {**os.environ, "LSCTL_CACHE_DIR": cache_dir}
    out = subprocess.run(
        [sys.executable, "-c", SNIPPET, str(train), f"{tmp}/unused", model, "1" if cache else "0"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="imdb")
    ap.add_argument("--model", default="textcnn", choices=["textcnn", "lstm"])
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    train = SHARED / a.dataset / "train.parquet"
    if not train.exists():
        raise SystemExit(f"{train} not found (set LSCTL_SHARED)")
    times: dict[str, list[float]] = {"no cache": [], "cold": [], "warm": []}
    with tempfile.TemporaryDirectory() as tmp:
        warm_dir = f"{tmp}/warm"
        measure(train, a.model, warm_dir, True, tmp)  # fill it once
        for r in range(a.rounds):
            cold_dir = f"{tmp}/cold{r}"
            for name, folder, cache, expect in (
                ("no cache", cold_dir, False, "off"),
                ("cold", cold_dir, True, "miss"),
                ("warm", warm_dir, True, "hit"),
            ):
                s, status = measure(train, a.model, folder, cache, tmp)
                if status != expect:
                    raise SystemExit(f"{name}: expected a cache {expect}, got {status}")
                times[name].append(s)
                print(f"round {r + 1} {name}: {s:.2f} s", file=sys.stderr)
    base = statistics.median(times["no cache"])
    print(
        f"\n{a.model} on {a.dataset} train: seconds from reading TRAIN to the first step "
        f"(median of {a.rounds})\n"
    )
    print("| run | seconds | ratio to --no-cache |")
    print("|---|---:|---:|")
    for name, v in times.items():
        m = statistics.median(v)
        print(f"| {name} | {m:.2f} | {m / base:.2f} |")


if __name__ == "__main__":
    main()
