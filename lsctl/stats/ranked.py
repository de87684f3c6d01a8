"""`compare` on ranked retrieval predictions: the paired unit is the question.

Each question contributes its own score (``1/rank`` for MRR, ``rank ≤ k`` for
Recall@k), so every metric is a mean of per-question values and the paired
bootstrap of :mod:`lsctl.stats.bootstrap` applies unchanged: one resample of
questions is shared by every system, seeds nested inside. The t-test and
Wilcoxon over seeds, McNemar (Recall@k hits; not defined for MRR) and Holm are
those of :mod:`lsctl.stats.compare`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lsctl.artifacts import ArtifactReader, open_artifact
from lsctl.errors import LsctlError, UsageError
from lsctl.progress import Progress
from lsctl.retrieval.rank import METRICS, per_question, read_ranked
from lsctl.stats.bootstrap import paired_bootstrap
from lsctl.stats.compare import (
    CompareOptions,
    System,
    comparison_pairs,
    grouped_systems,
    join_system,
    pair_rows,
    validate_options,
)

# The same three keys must agree across files: otherwise the ranks are not comparable.
SAME = ("pool", "fold", "pool_size")


# How to tell ranked files apart: each command that writes them has --name, and
# compare's own --name renames files after the fact.
HINT = "--name (of `retrieve bm25` or `retrieve predict`, or compare's --name PATTERN=NAME)"


@dataclass
class RankedSeed:
    path: str
    seed: int | None
    ranks: np.ndarray  # in the reference question order
    reader: ArtifactReader


@dataclass
class RankedTest:
    ids: list[Any]  # question ids, in the reference order
    pool: str
    fold: str
    pool_size: int
    seeds: list[RankedSeed] = field(default_factory=list)


def is_ranked(path: str) -> bool:
    """Whether ``path`` is a ranked artifact (reads only its schema; '-' is never ranked here)."""
    if path == "-":
        return False
    try:
        return (open_artifact(path).meta or {}).get("kind") == "ranked"
    except LsctlError:
        return False


def check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise UsageError(
            f"--metric {metric!r}: ranked retrieval files take one of {', '.join(METRICS)}"
        )


def load_ranked(
    paths: list[str], names_given: dict[str, str] | None = None
) -> tuple[RankedTest, list[System]]:
    """Read ranked artifacts, check they rank the same questions over the same pool, group them."""
    if len(paths) < 2:
        raise LsctlError("compare needs at least two ranked files (one per system and seed)")
    ref: RankedTest | None = None
    ref_path = ""
    ref_pos: dict[Any, int] = {}
    systems: dict[str, System] = {}
    for path in paths:
        f = read_ranked(path)
        reader = open_artifact(path)
        qids = f.qids.to_pylist()
        if len(set(qids)) != len(qids):
            raise LsctlError(f"{path}: duplicate qid values")
        if ref is None:
            ref = RankedTest(qids, f.meta["pool"], f.meta.get("fold"), f.meta.get("pool_size"))
            ref_path, ref_pos = path, {q: i for i, q in enumerate(qids)}
            ranks = f.ranks
        else:
            for key in SAME:
                if f.meta.get(key) != getattr(ref, key):
                    raise LsctlError(
                        f"{path}: {key} {f.meta.get(key)!r} differs from {ref_path}'s "
                        f"{getattr(ref, key)!r}; compare files that rank the same pool"
                    )
            if set(qids) != set(ref_pos):
                raise LsctlError(
                    f"{path}: its questions differ from {ref_path}'s; compare files of one fold"
                )
            ranks = np.empty(len(qids), dtype=np.int64)
            ranks[[ref_pos[q] for q in qids]] = f.ranks
        system, seed = join_system(systems, path, f.meta, names_given, HINT)
        system.seeds.append(RankedSeed(path, seed, ranks, reader))
    assert ref is not None
    return ref, grouped_systems(systems, HINT)


def compare_ranked(
    test: RankedTest,
    systems: list[System],
    opts: CompareOptions,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """One row per (system, baseline) pair, with the keys of ``stats.compare.ROW_KEYS``."""
    check_metric(opts.metric)
    validate_options(CompareOptions(**{**opts.__dict__, "metric": "accuracy"}))
    pairs = comparison_pairs([s.name for s in systems], opts.baseline)
    stats = [[per_question(p.ranks, opts.metric)[:, None] for p in s.seeds] for s in systems]
    seed_values = [[float(x.mean()) for x in s] for s in stats]
    # Each metric is the mean of one per-question column; "nll" is the bootstrap's
    # float64 column-mean reduction (the direction comes from the real metric below).
    rounds = paired_bootstrap(stats, "nll", 1, opts.rounds, opts.seed, progress)
    hits = None
    if opts.metric.startswith("recall@"):
        hits = [[p.ranks <= int(opts.metric.split("@")[1]) for p in s.seeds] for s in systems]
    return pair_rows(systems, pairs, seed_values, rounds, hits, opts)


def write_comparison(
    rows: list[dict[str, Any]],
    test: RankedTest,
    systems: list[System],
    opts: CompareOptions,
    output: str,
    inputs: list[str],
) -> None:
    """The comparison artifact; its metadata states the pool the files ranked."""
    from lsctl.artifacts import make_meta, write_artifact
    from lsctl.stats.compare import comparison_params, rows_table

    params = comparison_params(
        opts, systems, pool=test.pool, fold=test.fold, pool_size=test.pool_size
    )
    records = [p.reader.input_record() for s in systems for p in s.seeds]
    write_artifact(rows_table(rows), output, make_meta("comparison", None, params, records), inputs)
