"""Label-noise injection speed on 1M synthetic labels (K=4 and K=10).

Run: .venv/bin/python benchmarks/noise.py [--rows 1000000] [--repeat 5]

Each kind is timed as the median of --repeat runs of the core function, against
a naive baseline run in the same invocation: a per-row Python loop calling
``numpy.random.Generator.choice(K, p=T[y_i])``, timed on a subset and scaled
linearly to the full row count. Instance noise is timed with a given random
ILR matrix (the KWLS keyword statistics are the smoothing area's cost). The last
row times the whole CLI (read Parquet, inject, write Parquet) on 1M rows.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from lsctl.noise import inject as inj
from lsctl.noise import instance as ins
from lsctl.noise import transition as tr


def median_time(fn, repeat: int) -> float:
    fn()  # warm-up: first-call allocation and import costs are not the steady state
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def naive(y: np.ndarray, t: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(t.shape[0], p=t[c]) for c in y])


def cli_end_to_end(n: int, repeat: int) -> float:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from lsctl.cli.app import app

    rng = np.random.default_rng(0)
    labels = np.array(["a", "b", "c", "d"])[rng.integers(0, 4, n)]
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "in.parquet"
        pq.write_table(pa.table({"text": pa.array(["some text"] * n), "label": labels}), src)
        runner = CliRunner()

        def run() -> None:
            args = ["noise", str(src), "-o", str(Path(d) / "out.parquet"), "--kind",
                    "symmetric", "-r", "0.4", "-q"]  # fmt: skip
            r = runner.invoke(app, args)
            assert r.exit_code == 0, r.stderr

        return median_time(run, repeat)


def bench_k(k: int, n: int, repeat: int, naive_rows: int) -> list[tuple[int, str, float]]:
    rng = np.random.default_rng(k)
    y = rng.integers(0, k, n)
    sub = y[:naive_rows]
    sym = tr.symmetric(k, 0.4)
    pair = tr.pairflip(k, 0.4)
    asym = tr.asymmetric(k, 0.4, [(0, 1), (2, 3)])
    rand_t = rng.dirichlet(np.ones(k), k)
    ilr = rng.gamma(2.0, 1.0, (n, k))
    base = median_time(lambda: naive(sub, sym, 0), 3) * n / sub.size
    rows = [(k, "naive per-row rng.choice (scaled)", base)]
    cases = {
        "symmetric": lambda: inj.inject(y, sym, 0),
        "symmetric --exact": lambda: inj.inject(y, sym, 0, exact=True),
        "pairflip": lambda: inj.inject(y, pair, 0),
        "asymmetric (2 pairs)": lambda: inj.inject(y, asym, 0),
        "matrix (random T)": lambda: inj.inject(y, rand_t, 0),
        "instance (given ILR)": lambda: ins.instance_noise(ilr, y, 0.4, 0),
        "instance --exact (given ILR)": lambda: ins.instance_noise(ilr, y, 0.4, 0, exact=True),
    }
    for name, fn in cases.items():
        rows.append((k, name, median_time(fn, repeat)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--naive-rows", type=int, default=20_000)
    args = ap.parse_args()
    n = args.rows

    rows = []
    for k in (4, 10):
        rows += bench_k(k, n, args.repeat, args.naive_rows)
    e2e = cli_end_to_end(n, max(1, min(args.repeat, 3)))

    print(f"rows={n:,}  repeat={args.repeat} (median)  naive timed on {args.naive_rows:,} rows")
    print(f"{'K':>3}  {'kind':<36} {'seconds':>9} {'Mrows/s':>8} {'vs naive':>9}")
    baseline = {}
    for k, name, sec in rows:
        if name.startswith("naive"):
            baseline[k] = sec
        print(f"{k:>3}  {name:<36} {sec:>9.3f} {n / sec / 1e6:>8.2f} {baseline[k] / sec:>8.0f}x")
    print(f"{4:>3}  {'CLI end to end (Parquet in/out)':<36} {e2e:>9.3f} {n / e2e / 1e6:>8.2f}")


if __name__ == "__main__":
    main()
