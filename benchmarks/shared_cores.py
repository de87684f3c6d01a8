"""Training throughput when two `lsctl train` runs share the machine.

For each setting, runs one training alone, then two at once (same command,
different output directories), and reports the median examples/s of each
and the ratio concurrent/solo. Settings, all in this one invocation:

- ``libgomp default``: ``GOMP_SPINCOUNT=300000``, libgomp's own default and
  what lsctl did before it set one (the baseline);
- ``lsctl default``: no thread options at all (lsctl sets a short spin count);
- ``--threads 1``: each run on one torch thread, the advice for grids that run
  as many jobs as there are cores.

Each figure is the median over ``--repeats`` rounds of the per-run median
epoch throughput (``median_examples_per_s`` from ``--json``). Rounds
interleave the settings so that machine drift hits all of them.

    python benchmarks/shared_cores.py [--dataset trec] [--epochs 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LSCTL_SHARED", REPO.parent / "shared")) / "datasets"
LSCTL = [sys.executable, "-m", "lsctl"]

SETTINGS = {
    "libgomp default": ({"GOMP_SPINCOUNT": "300000"}, []),
    "lsctl default": ({}, []),
    "--threads 1": ({}, ["--threads", "1"]),
}


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "OMP_NUM_THREADS")
    }
    return {**env, **extra}


def _start(train: str, out: str, epochs: int, env: dict[str, str], args: list[str]):
    cmd = [*LSCTL, "train", train, "-o", out, "--epochs", str(epochs), "--json", *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def _speed(proc: subprocess.Popen) -> float:
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"lsctl train failed (exit {proc.returncode})")
    return float(json.loads(out)["median_examples_per_s"])


def run_round(train: str, tmp: str, epochs: int, tag: str, setting: str) -> tuple[float, float]:
    extra, args = SETTINGS[setting]
    env = _env(extra)
    slug = setting.replace(" ", "_").replace("-", "")
    solo = _speed(_start(train, f"{tmp}/{tag}-{slug}-solo", epochs, env, args))
    procs = [_start(train, f"{tmp}/{tag}-{slug}-c{i}", epochs, env, args) for i in range(2)]
    both = [_speed(p) for p in procs]
    return solo, statistics.mean(both)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="trec")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    train = SHARED / a.dataset / "train.parquet"
    if not train.exists():
        raise SystemExit(f"{train} not found (set LSCTL_SHARED)")
    res: dict[str, dict[str, list[float]]] = {s: {"solo": [], "both": []} for s in SETTINGS}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.repeats):
            for setting in SETTINGS:
                solo, both = run_round(str(train), tmp, a.epochs, f"r{r}", setting)
                res[setting]["solo"].append(solo)
                res[setting]["both"].append(both)
                print(
                    f"round {r + 1} {setting}: solo {solo:.0f}, each of two {both:.0f}",
                    file=sys.stderr,
                )
    base_solo = statistics.median(res["libgomp default"]["solo"])
    print(
        f"\nTextCNN on {a.dataset}, {a.epochs} epochs, median of {a.repeats} rounds (examples/s)\n"
    )
    print("| setting | solo | each of 2 concurrent | concurrent / solo | solo / baseline solo |")
    print("|---|---:|---:|---:|---:|")
    for setting, v in res.items():
        solo, both = statistics.median(v["solo"]), statistics.median(v["both"])
        print(
            f"| {setting} | {solo:.0f} | {both:.0f} | {both / solo:.2f} | {solo / base_solo:.2f} |"
        )


if __name__ == "__main__":
    main()
