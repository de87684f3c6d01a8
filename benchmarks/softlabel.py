"""Benchmark: `lsctl softlabel --method kwls` on IMDb train, process start to file written.

Runs, in one invocation and on the same file:

- ``lsctl``: the CLI as a user runs it (a fresh process each time);
- ``plain``: a straightforward Python/NumPy/SciPy implementation of the same
  equations (Python regex tokenization, a dict vocabulary, a SciPy CSR
  product), also a fresh process, writing the same columns;
- ``floor``: what no implementation can skip, in Arrow kernels: start
  Python, read the text column, lowercase it and split it at whitespace
  (a cruder tokenization than the ``\\w+`` words the others use);
- ``lsctl 10x``: IMDb repeated ten times (written to a temporary Parquet
  file), for time and memory scaling.

The first three run in turn (plain, lsctl, floor, plain, …), so a machine
whose speed drifts slows them alike and the ratios hold. Prints medians of
wall and CPU time, peak RSS, and ratios. Wall time on a shared machine is
noisy; CPU time (user+sys of the process) is steadier.

    python benchmarks/softlabel.py [--runs 5] [--runs-10x 1] [--tokenizer words]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMDB = Path(os.environ.get("LSCTL_SHARED", REPO.parent / "shared")) / "datasets/imdb/train.parquet"

PLAIN = r"""
import math, re, sys
import numpy as np, pyarrow as pa, pyarrow.parquet as pq, scipy.sparse as sp
src, out, tok = sys.argv[1], sys.argv[2], sys.argv[3]
t = pq.read_table(src)
texts, gold = t.column("text").to_pylist(), t.column("label").to_pylist()
labels = sorted(set(gold))
y = np.array([labels.index(g) for g in gold])
word = re.compile(r"\w+")
docs = [word.findall(s.lower()) for s in texts] if tok == "words" else [s.split(" ") for s in texts]
vocab, rows, cols = {}, [], []
for i, d in enumerate(docs):
    for w in d:
        cols.append(vocab.setdefault(w, len(vocab)))
    rows.extend([i] * len(d))
n, v, p = len(docs), len(vocab), len(labels)
X = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(n, v))
X.sum_duplicates()
f = np.column_stack([np.asarray(X[y == m].sum(axis=0)).ravel() for m in range(p)])
S = f.sum(axis=0)
k1, b, k2 = 2.0, 0.75, 2.0
wlc = np.where(f > 0, f * k1 / (f + k1 * (1 - b + b * S / S.mean())), 0.0)
wlw = np.log(p / (f >= 1).sum(axis=1)) + 1
wlr = wlw[:, None] * wlc
df = np.bincount(X.indices, minlength=v)
wiw = np.log(n / df) + 1
W = X.copy()
W.data = W.data * k2 / (W.data + k2) * wiw[W.indices]
ilr = W @ wlr / (sum(len(d) for d in docs) / n)
ilr -= ilr.max(axis=1, keepdims=True)
d = np.exp(ilr)
d /= d.sum(axis=1, keepdims=True)
soft = pa.FixedSizeListArray.from_arrays(pa.array(d.astype(np.float32).ravel()), p)
pq.write_table(t.append_column("soft_label", soft), out, compression="zstd")
"""

FLOOR = r"""
import sys
import pyarrow.compute as pc, pyarrow.parquet as pq
text = pq.read_table(sys.argv[1], columns=["text"]).column("text")
tokens = pc.ascii_split_whitespace(pc.utf8_lower(text))
"""


def run(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user+sys) and peak RSS (MB) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def bench(cases: list[tuple[str, list[str]]], runs: int) -> list[dict]:
    """Median wall/CPU and peak RSS of each (name, command), run in turn ``runs`` times."""
    samples: list[list[tuple[float, float, float]]] = [[] for _ in cases]
    for _ in range(runs):
        for got, (_, cmd) in zip(samples, cases, strict=True):
            got.append(run(cmd))
    return [
        {
            "name": name,
            "runs": runs,
            "wall": statistics.median(s[0] for s in got),
            "cpu": statistics.median(s[1] for s in got),
            "rss": max(s[2] for s in got),
        }
        for got, (name, _) in zip(samples, cases, strict=True)
    ]


def max_abs_diff(a: str, b: str) -> float:
    import numpy as np
    import pyarrow.parquet as pq

    da = np.array(pq.read_table(a, columns=["soft_label"])[0].to_pylist())
    db = np.array(pq.read_table(b, columns=["soft_label"])[0].to_pylist())
    return float(np.abs(da - db).max())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--runs-10x", type=int, default=1, help="0 skips the 10x corpus")
    ap.add_argument("--tokenizer", default="words", choices=["words", "whitespace"])
    args = ap.parse_args()
    if not IMDB.exists():
        raise SystemExit(f"{IMDB} is absent; the benchmark needs ../shared/datasets")
    lsctl = [sys.executable, "-m", "lsctl"]
    tok = ["--tokenizer", args.tokenizer]
    with tempfile.TemporaryDirectory() as tmp:
        out_l, out_p = f"{tmp}/lsctl.parquet", f"{tmp}/plain.parquet"
        results = bench(
            [
                (
                    "plain NumPy/SciPy",
                    [sys.executable, "-c", PLAIN, str(IMDB), out_p, args.tokenizer],
                ),
                ("lsctl softlabel", [*lsctl, "softlabel", str(IMDB), "-o", out_l, "-q", *tok]),
                ("floor: Arrow read+split", [sys.executable, "-c", FLOOR, str(IMDB)]),
            ],
            args.runs,
        )
        diff = max_abs_diff(out_l, out_p)
        if args.runs_10x:
            import pyarrow as pa
            import pyarrow.parquet as pq

            big = f"{tmp}/imdb10.parquet"
            t = pq.read_table(IMDB)
            pq.write_table(pa.concat_tables([t] * 10), big, row_group_size=t.num_rows)
            del t
            results += bench(
                [
                    (
                        "lsctl softlabel, IMDb x10",
                        [*lsctl, "softlabel", big, "-o", f"{tmp}/big.parquet", "-q", *tok],
                    )
                ],
                args.runs_10x,
            )
    base = results[0]
    one = results[1]
    print(
        f"kwls soft labels, IMDb train (25,000 reviews), tokenizer {args.tokenizer}, {os.cpu_count()} CPUs"
    )
    print(
        f"{'case':<28} {'runs':>4} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'wall vs plain':>14} "
        f"{'wall vs 1x':>11} {'peak vs 1x':>11}"
    )
    for r in results:
        print(
            f"{r['name']:<28} {r['runs']:>4} {r['wall']:>8.2f} {r['cpu']:>8.2f} {r['rss']:>8.0f} "
            f"{r['wall'] / base['wall']:>13.2f}x {r['wall'] / one['wall']:>10.2f}x "
            f"{r['rss'] / one['rss']:>10.2f}x"
        )
    floor = results[2]
    print(
        f"lsctl softlabel minus the floor: {one['wall'] - floor['wall']:.2f} s wall, "
        f"{one['cpu'] - floor['cpu']:.2f} s CPU"
    )
    print(f"max |lsctl - plain| over all soft labels: {diff:.2e}")
    print(
        f"load average at the end: {os.getloadavg()[0]:.2f} (wall times on a busy machine inflate)"
    )


if __name__ == "__main__":
    main()
