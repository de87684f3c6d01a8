"""Markdown tables for the example scripts, from lsctl's own artifacts.

    python examples/_md_table.py compare CMP.parquet [CMP.json …]   # lsctl compare rows
    python examples/_md_table.py metrics PRED.parquet …              # per-system test metrics
    python examples/_md_table.py convergence PRED.parquet …          # epochs/steps to 95%/99% of best dev acc
    python examples/_md_table.py targets NAME=SOFT.parquet …         # soft labels vs (clean) labels
    python examples/_md_table.py retrieval RANKED.parquet …          # Recall@k and MRR per system
    python examples/_md_table.py average --baseline ce PREDS_DIR …   # mean over training sets

`compare` reads the comparison artifact (`lsctl compare -o X.parquet`) or its
`--json` output. `metrics` reads the metrics `lsctl eval` stamps into each
predictions file and averages them over seeds. `convergence` does the same
with the epochs and steps to 95%/99% of the best dev accuracy that `lsctl eval`
stamps there (from the run's metrics.parquet). `targets` describes softlabels artifacts: how often the soft
label's argmax is the (possibly noisy) `label`, and, when `lsctl noise` left a
`clean_label`, how often it is the clean one. Tables go to stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path


def _p(p: float | None) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    align = ["---" if i == 0 else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def compare_rows(path: str) -> tuple[list[dict], dict]:
    if path.endswith(".json"):
        obj = json.loads(Path(path).read_text())
        return obj["rows"], {"metric": obj.get("metric"), "n": obj.get("n")}
    from lsctl.artifacts import read_artifact

    table, reader = read_artifact(path)
    params = (reader.meta or {}).get("params", {})
    return table.to_pylist(), params


def compare_md(paths: list[str]) -> str:
    """One table per metric: files in a row that share the metric and CI level
    (e.g. KWLS against each other method) become one table."""
    out: list[tuple[list[str], list[list[str]]]] = []
    for path in paths:
        rows, params = compare_rows(path)
        metric = params.get("metric") or (rows[0]["metric"] if rows else "?")
        ci = params.get("ci", 0.95)
        body = [
            [
                r["system"],
                r["baseline"],
                f"{r['mean']:.4f}",
                f"{r['baseline_mean']:.4f}",
                f"{r['delta']:+.4f}",
                f"[{r['ci_low']:+.4f}, {r['ci_high']:+.4f}]",
                _p(r["p_bootstrap"]),
                _p(r["p_ttest"]),
                _p(r["p_wilcoxon"]),
                _p(r["p_mcnemar"]),
                _p(r["p_adjusted"]),
                r["verdict"] or "",
            ]
            for r in rows
        ]
        header = [
            "system",
            "vs",
            metric,
            "baseline",
            "Δ",
            f"{ci:.0%} CI of Δ",
            "p boot",
            "p t-test",
            "p Wilcoxon",
            "p McNemar",
            "p Holm",
            "verdict",
        ]
        if out and out[-1][0] == header:
            out[-1][1].extend(body)
        else:
            out.append((header, body))
    return "\n\n".join(_table(h, b) for h, b in out) + "\n"


def _mean_sd(xs: list[float], scale: float = 1.0, digits: int = 2) -> str:
    m = statistics.fmean(xs) * scale
    if len(xs) < 2:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ± {statistics.stdev(xs) * scale:.{digits}f}"


def metrics_md(paths: list[str]) -> str:
    from lsctl.artifacts import open_artifact

    by_system: dict[str, list[dict]] = defaultdict(list)
    for path in paths:
        meta = open_artifact(path).meta or {}
        if meta.get("kind") != "predictions" or "metrics" not in meta:
            raise SystemExit(f"{path}: not a predictions artifact from lsctl eval")
        by_system[meta["name"]].append(meta["metrics"])
    rows = []
    for name, ms in by_system.items():
        rows.append(
            [
                name,
                str(len(ms)),
                _mean_sd([m["accuracy"] for m in ms], 100),
                _mean_sd([m["macro_f1"] for m in ms], 100),
                _mean_sd([m["nll"] for m in ms], 1, 3),
                _mean_sd([m["ece"] for m in ms], 100),
            ]
        )
    header = ["system", "seeds", "accuracy %", "macro-F1 %", "NLL", "ECE %"]
    return _table(header, rows) + "\n\nMean ± sd over seeds, on the test split.\n"


def retrieval_md(paths: list[str]) -> str:
    """Recall@1/5/10/50/100 and MRR (%) per system and pool, mean ± sd over seeds."""
    from lsctl.retrieval.rank import METRICS, metrics, read_ranked

    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for path in paths:
        f = read_ranked(path)
        pool = f"{f.meta['pool']} ({f.meta.get('pool_size')})"
        groups[str(f.meta.get("name")), pool].append(metrics(f.ranks))
    order = [m for m in METRICS if m != "mrr"] + ["mrr"]
    rows = [
        [name, pool, str(len(ms)), *(_mean_sd([m[k] for m in ms], 100) for k in order)]
        for (name, pool), ms in groups.items()
    ]
    header = ["system", "pool", "seeds", *(k.replace("recall", "R") + " %" for k in order)]
    return (
        _table(header, rows)
        + "\n\nMean ± sd over seeds; pool all = every sentence (ReQA), fold = the test fold's own.\n"
    )


def convergence_md(paths: list[str]) -> str:
    """Epochs and steps to 95%/99% of the best dev accuracy, as `lsctl eval` stamped them."""
    from lsctl.artifacts import open_artifact

    by_system: dict[str, list[dict]] = defaultdict(list)
    for path in paths:
        meta = open_artifact(path).meta or {}
        conv = meta.get("convergence")
        if meta.get("kind") != "predictions" or not conv:
            raise SystemExit(
                f"{path}: no convergence in its metadata (evaluate a run with lsctl eval)"
            )
        by_system[meta["name"]].append(conv)

    def col(cs: list[dict], key: str) -> str:
        xs = [c[key] for c in cs]
        return "–" if any(x is None for x in xs) else _mean_sd([float(x) for x in xs], 1, 1)

    rows = [
        [
            name,
            str(len(cs)),
            col(cs, "epochs_to_95"),
            col(cs, "steps_to_95"),
            col(cs, "epochs_to_99"),
            col(cs, "steps_to_99"),
            _mean_sd([c["best_dev_accuracy"] for c in cs], 100),
        ]
        for name, cs in by_system.items()
    ]
    header = [
        "system",
        "seeds",
        "epochs to 95% of best dev acc",
        "steps to 95%",
        "epochs to 99%",
        "steps to 99%",
        "best dev acc %",
    ]
    return _table(header, rows) + "\n"


def targets_md(pairs: list[str]) -> str:
    import numpy as np

    from lsctl.artifacts import label_indices, prob_matrix, read_artifact, vector_labels

    rows = []
    for pair in pairs:
        name, _, path = pair.rpartition("=")
        table, reader = read_artifact(path)
        # Never the sorted names: they would flip the targets of an unsorted order.
        labels = vector_labels(table, reader.meta, path, "soft_label")
        d = prob_matrix(table.column("soft_label"), len(labels), path, "soft_label")
        arg = d.argmax(axis=1)
        y = label_indices(table, labels, path)
        gold = d[np.arange(len(y)), y]
        row = [name or path, str(len(y)), f"{100 * np.mean(arg == y):.1f}", f"{gold.mean():.3f}"]
        if "clean_label" in table.column_names:
            clean = label_indices(table, labels, path, column="clean_label")
            noisy = clean != y
            row += [
                f"{100 * np.mean(arg == clean):.1f}",
                f"{100 * np.mean(arg[noisy] == clean[noisy]):.1f}" if noisy.any() else "–",
            ]
        else:
            row += ["–", "–"]
        rows.append(row)
    header = [
        "targets",
        "rows",
        "argmax = label %",
        "mean p(label)",
        "argmax = clean label %",
        "… on flipped rows %",
    ]
    return _table(header, rows) + "\n"


def _accuracy(path: Path) -> float:
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=["label", "pred"])
    gold, pred = t.column("label").to_pylist(), t.column("pred").to_pylist()
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)


def average_md(dirs: list[str], baseline: str, ci: float = 0.95) -> str:
    """Accuracy averaged over several training sets (one preds/ folder each) per seed.

    The KWLS paper's Table 4 reports the mean over its K under-sampled sets. For
    each system and seed the K accuracies are averaged; Δ vs the baseline is then
    paired by seed: mean, t-interval, paired t-test over seeds, Holm over systems.
    """
    from scipy import stats

    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for d in dirs:
        for path in sorted(Path(d).glob("*.parquet")):
            name, seed = path.stem.rsplit("-s", 1)
            acc[name][seed].append(_accuracy(path))
    k = len(dirs)
    mean = {
        n: {s: statistics.fmean(v) for s, v in by.items() if len(v) == k} for n, by in acc.items()
    }
    base = mean[baseline]
    rows, pvals = [], []
    for name, by in mean.items():
        seeds = sorted(set(by) & set(base), key=int)
        if name == baseline or len(seeds) < 2:
            continue
        d = [by[s] - base[s] for s in seeds]
        m, se = statistics.fmean(d), statistics.stdev(d) / math.sqrt(len(d))
        half = stats.t.ppf(0.5 + ci / 2, len(d) - 1) * se
        p = float(stats.ttest_rel([by[s] for s in seeds], [base[s] for s in seeds]).pvalue)
        pvals.append(p if not math.isnan(p) else 1.0)
        rows.append(
            [name, statistics.fmean(by[s] for s in seeds), m, m - half, m + half, p, len(seeds)]
        )
    # Holm: the i-th smallest p is multiplied by (m - i), then made monotone.
    order = sorted(range(len(pvals)), key=pvals.__getitem__)
    adj, running = [0.0] * len(pvals), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvals) - rank) * pvals[i]))
        adj[i] = running
    body = [
        [
            name,
            f"{100 * acc_:.2f}",
            f"{100 * statistics.fmean(base[s] for s in base):.2f}",
            f"{100 * m:+.2f}",
            f"[{100 * lo:+.2f}, {100 * hi:+.2f}]",
            _p(p),
            _p(a),
            str(n),
        ]
        for (name, acc_, m, lo, hi, p, n), a in zip(rows, adj, strict=True)
    ]
    header = [
        "system",
        f"accuracy % (mean of {k} sets)",
        f"{baseline} %",
        "Δ points",
        f"{ci:.0%} t-CI of Δ",
        "p t-test (seeds)",
        "p Holm",
        "seeds",
    ]
    return _table(header, body) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Markdown tables from lsctl artifacts.")
    sub = ap.add_subparsers(dest="what", required=True)
    sub.add_parser("compare").add_argument("paths", nargs="+")
    sub.add_parser("metrics").add_argument("paths", nargs="+")
    sub.add_parser("convergence").add_argument("paths", nargs="+")  # eval's PRED.parquet …
    sub.add_parser("targets").add_argument("paths", nargs="+")
    sub.add_parser("retrieval").add_argument("paths", nargs="+")
    avg = sub.add_parser("average")
    avg.add_argument("--baseline", required=True)
    avg.add_argument("paths", nargs="+")
    args = ap.parse_args(argv)
    if args.what == "compare":
        sys.stdout.write(compare_md(args.paths))
    elif args.what == "metrics":
        sys.stdout.write(metrics_md(args.paths))
    elif args.what == "targets":
        sys.stdout.write(targets_md(args.paths))
    elif args.what == "retrieval":
        sys.stdout.write(retrieval_md(args.paths))
    elif args.what == "average":
        sys.stdout.write(average_md(args.paths, args.baseline))
    else:
        sys.stdout.write(convergence_md(args.paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
