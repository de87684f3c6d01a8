"""Speed of `lsctl compare`'s paired bootstrap: 10 systems × 5 seeds × 25,000 test instances.

Run: .venv/bin/python benchmarks/compare.py [--systems 10] [--seeds 5] [--n 25000]
     [--rounds 10000] [--repeat 3] [--naive-rounds 100]

Times the whole comparison (``lsctl.stats.compare.compare``: bootstrap, t-test,
Wilcoxon, McNemar, Holm) of 9 systems against a baseline with the accuracy
metric, as the median of --repeat runs. The naive baseline, run in the same
invocation, is the textbook per-round Python loop (draw N indices, index every
seed's correctness vector, average) timed on --naive-rounds rounds and scaled
linearly to --rounds. Target: ≤ 3 s for the vectorized version on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from lsctl.stats.compare import CompareOptions, SeedPreds, System, TestSet, compare


def make_systems(n_systems: int, n_seeds: int, n: int, k: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    systems = []
    for s in range(n_systems):
        acc = 0.80 + 0.005 * s
        seeds = []
        for j in range(n_seeds):
            z = rng.normal(size=(n, k))
            ok = rng.random(n) < acc
            z[np.arange(n), np.where(ok, y, (y + 1) % k)] += 3.0
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            seeds.append(SeedPreds(f"sys{s}-{j}", j, p.astype(np.float32), None))  # type: ignore[arg-type]
        systems.append(System(f"sys{s}", seeds))
    return TestSet(list(range(n)), y, [f"c{i}" for i in range(k)]), systems


def naive_bootstrap(test: TestSet, systems: list[System], rounds: int, seed: int) -> np.ndarray:
    """Per-round loop: the same indices for every system, seeds nested."""
    rng = np.random.default_rng(seed)
    correct = [[p.probs.argmax(1) == test.y for p in s.seeds] for s in systems]
    n = len(test.y)
    out = np.empty((rounds, len(systems)))
    for r in range(rounds):
        idx = rng.integers(0, n, n)
        for i, seeds in enumerate(correct):
            out[r, i] = np.mean([c[idx].mean() for c in seeds])
    return out


def median_time(fn, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds; CPU (all threads) shows the work when other jobs share the cores."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--systems", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--n", type=int, default=25_000)
    ap.add_argument("--rounds", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--naive-rounds", type=int, default=100)
    a = ap.parse_args()

    test, systems = make_systems(a.systems, a.seeds, a.n)
    opts = CompareOptions(metric="accuracy", baseline="sys0", rounds=a.rounds, seed=0)
    compare(test, systems, CompareOptions(metric="accuracy", baseline="sys0", rounds=50))  # warm-up
    fast = median_time(lambda: compare(test, systems, opts), a.repeat)
    naive_part = median_time(
        lambda: naive_bootstrap(test, systems, a.naive_rounds, 0), max(1, a.repeat)
    )
    scale = a.rounds / a.naive_rounds
    naive, naive_cpu = naive_part[0] * scale, naive_part[1] * scale
    fast, fast_cpu = fast

    print(
        f"paired bootstrap, accuracy: {a.systems} systems × {a.seeds} seeds × {a.n:,} instances, "
        f"{a.rounds:,} rounds, {a.systems - 1} comparisons vs baseline (median of {a.repeat})"
    )
    print(f"{'method':<44} {'wall s':>8} {'cpu s':>8} {'vs naive':>9}")
    print(f"{'naive per-round loop (scaled from ' + str(a.naive_rounds) + ' rounds)':<44} "
          f"{naive:>8.2f} {naive_cpu:>8.2f} {1.0:>8.1f}×")  # fmt: skip
    print(
        f"{'lsctl compare core (count matrix × stats)':<44} "
        f"{fast:>8.2f} {fast_cpu:>8.2f} {naive / fast:>8.1f}×"
    )
    print(f"target ≤ 3 s wall: {'met' if fast <= 3 else 'NOT met'}", end="")
    print(f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
