"""Compare systems on one test set: load prediction artifacts, run every test, build the rows.

A *system* is the set of prediction files sharing a metadata ``name``; each
file is one seed. Rows are ordered pairs (system, baseline).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from lsctl.artifacts import (
    ArtifactReader,
    check_distributions,
    label_indices,
    prob_matrix,
    read_artifact,
    vector_labels,
)
from lsctl.errors import LsctlError, UsageError
from lsctl.progress import Progress
from lsctl.stats import MCNEMAR_TESTS
from lsctl.stats.bootstrap import (
    LOWER_IS_BETTER,
    METRICS,
    instance_stats,
    paired_bootstrap,
    point_estimate,
    summarize_deltas,
)
from lsctl.stats.hypothesis import holm, mcnemar, mcnemar_counts, paired_ttest, wilcoxon
from lsctl.validation import check_seed

ROW_KEYS = (
    "system",
    "baseline",
    "metric",
    "mean",
    "baseline_mean",
    "delta",
    "ci_low",
    "ci_high",
    "p_bootstrap",
    "p_ttest",
    "p_wilcoxon",
    "p_mcnemar",
    "p_adjusted",
    "verdict",
)


@dataclass
class SeedPreds:
    path: str
    seed: int | None
    probs: np.ndarray  # N×K, rows in the reference id order
    reader: ArtifactReader


@dataclass
class System:
    name: str
    seeds: list[SeedPreds] = field(default_factory=list)


@dataclass
class TestSet:
    ids: list[Any]
    y: np.ndarray
    labels: list[str]


def load_predictions(
    paths: list[str],
    labels_given: list[str] | None = None,
    names_given: dict[str, str] | None = None,
) -> tuple[TestSet, list[System]]:
    """Read and cross-check prediction files; group them into systems by ``name``.

    A file needs ``id``, ``label`` and ``probs``. Files from other tools (or
    rewritten by pandas) have no lsctl metadata: their system name is the file
    name, and the label order of ``probs`` comes from ``labels_given``
    (``--labels``) or is proved by a ``pred`` column (see ``vector_labels``).
    ``names_given`` maps glob patterns (matched against the path as given or
    its file name) to system names (``--name PATTERN=NAME``); a file so named
    without a seed in its metadata gets the next free seed 1, 2, … of its
    system, in command-line order, so its seeds pair up with another system's.
    """
    if len(paths) < 2:
        raise LsctlError(
            "compare needs at least two prediction files (one per system and seed); "
            "make them with `lsctl eval RUN DATA -o PREDS`"
        )
    ref: TestSet | None = None
    ref_path = ""
    ref_pos: dict[Any, int] = {}
    systems: dict[str, System] = {}
    for path in paths:
        table, reader = read_artifact(path)
        where = path
        if "label" not in table.column_names and "probs" in table.column_names:
            raise LsctlError(
                f"{where}: predictions of data without labels (`lsctl eval` on a file with "
                "no label column); compare scores predictions on a labelled test set"
            )
        for col in ("id", "label", "probs"):
            if col not in table.column_names:
                raise LsctlError(
                    f"{where}: no column {col!r}; a predictions file needs id, label and "
                    "probs (one probability per label), as `lsctl eval` writes"
                )
        meta = reader.meta or {}
        if meta.get("kind") not in (None, "predictions"):
            raise LsctlError(f"{where}: is a {meta['kind']} artifact, expected predictions")
        labels = vector_labels(table, meta, where, "probs", labels_given, prove_with="pred")
        ids = table.column("id").to_pylist()
        y = label_indices(table, labels, where)
        probs = prob_matrix(table.column("probs"), len(labels), where, "probs")
        check_distributions(probs, where, "probs", ids=ids)
        if ref is None:
            if len(set(ids)) != len(ids):
                raise LsctlError(f"{where}: duplicate ids; each test instance needs its own id")
            ref, ref_path = TestSet(ids, y, labels), path
            ref_pos = {v: i for i, v in enumerate(ids)}
        else:
            if labels != ref.labels:
                raise LsctlError(
                    f"{where}: label list {labels} differs from {ref_path}'s {ref.labels}"
                )
            order = _align(ids, ref_pos, ref, where, ref_path)
            mismatch = np.nonzero(y[order] != ref.y)[0]
            if len(mismatch):
                i = int(mismatch[0])
                raise LsctlError(
                    f"{where}: id {ref.ids[i]!r} has gold label {labels[y[order][i]]!r} but "
                    f"{ref_path} has {labels[ref.y[i]]!r}; the files are on different test sets"
                )
            probs = probs[order]
        system, seed = join_system(systems, path, meta, names_given, "`lsctl eval --name`")
        system.seeds.append(SeedPreds(path, seed, probs, reader))
    assert ref is not None
    return ref, grouped_systems(systems, "`lsctl eval --name`")


def join_system(
    systems: dict[str, Any],
    path: str,
    meta: dict[str, Any],
    names_given: dict[str, str] | None,
    hint: str,
) -> tuple[Any, int | None]:
    """The system (in ``systems``, name → System) and seed the file ``path`` belongs to.

    The system is the ``--name`` pattern that matches ``path``, else the
    metadata's name, else the file name. The seed is the metadata's; a file
    named by ``--name`` without one gets its system's next free seed (1, 2, …),
    so its seeds pair up with another system's. A seed given twice is an error;
    ``hint`` says how to tell systems apart. The caller appends the seed's record.
    """
    given = given_name(path, names_given)
    name = given or str(meta.get("name") or os.path.splitext(os.path.basename(path))[0])
    seed = meta.get("seed")
    if seed is None and given:
        taken = {p.seed for p in systems.get(name, System(name)).seeds}
        seed = next(s for s in range(1, len(taken) + 2) if s not in taken)
    system = systems.setdefault(name, System(name))
    for other in system.seeds:
        if other.seed == seed:
            which = f"seed {seed}" if seed is not None else "a file without a seed"
            raise LsctlError(
                f"{path}: system {name!r} ({which}) is already given by {other.path}; "
                f"give each system a distinct {hint}"
            )
    return system, seed


def grouped_systems(systems: dict[str, Any], hint: str) -> list[Any]:
    """The systems, each with its seeds in order; at least two of them."""
    if len(systems) < 2:
        raise LsctlError(
            f"all files belong to one system {next(iter(systems))!r}; compare needs two systems "
            f"(set them apart with {hint})"
        )
    for s in systems.values():
        s.seeds.sort(key=lambda p: (p.seed is None, p.seed if p.seed is not None else 0))
    return list(systems.values())


def comparison_params(opts: CompareOptions, systems: list[Any], **extra: Any) -> dict[str, Any]:
    """The comparison artifact's ``params``: the options and each system's seeds."""
    return {
        "metric": opts.metric,
        "baseline": opts.baseline,
        "rounds": opts.rounds,
        "seed": opts.seed,
        "ci": opts.ci,
        "mcnemar": opts.mcnemar,
        "alpha": opts.alpha,
        **extra,
        "systems": {s.name: [p.seed for p in s.seeds] for s in systems},
    }


def check_names(
    names_given: dict[str, str] | None,
    paths: list[str],
    option: str = "--name",
    noun: str = "system name",
) -> None:
    """Each ``PATTERN=NAME`` of ``option`` must name something and match one of ``paths``.

    A pattern that matches nothing was a typo: ignoring it would leave the
    files under their old names without a word.
    """
    for pattern, name in (names_given or {}).items():
        if not str(name).strip():
            raise UsageError(f"{option} {pattern}=: the {noun} is empty")
        if not any(given_name(p, {pattern: name}) for p in paths):
            raise UsageError(f"{option} {pattern}={name}: the pattern matches none of the files")


def given_name(path: str, names_given: dict[str, str] | None) -> str | None:
    """The name given to ``path``: the first pattern that matches it or its file name."""
    import fnmatch

    for pattern, name in (names_given or {}).items():
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern):
            return name
    return None


def _align(
    ids: list[Any], ref_pos: dict[Any, int], ref: TestSet, where: str, ref_path: str
) -> np.ndarray:
    """Row order of this file that puts it in the reference's id order."""
    pos = {v: i for i, v in enumerate(ids)}
    if len(pos) != len(ids):
        raise LsctlError(f"{where}: duplicate ids; each test instance needs its own id")
    for v in ids:
        if v not in ref_pos:
            raise LsctlError(
                f"{where}: id {v!r} is not in {ref_path}; the files are on different test sets"
            )
    for v in ref.ids:
        if v not in pos:
            raise LsctlError(
                f"{where}: id {v!r} of {ref_path} is missing; the files are on different test sets"
            )
    return np.array([pos[v] for v in ref.ids], dtype=np.int64)


@dataclass
class CompareOptions:
    metric: str = "accuracy"
    baseline: str | None = None
    rounds: int = 10_000
    seed: int = 0
    ci: float = 0.95
    mcnemar: str = "exact"
    alpha: float = 0.05
    bins: int = 15


def validate_options(opts: CompareOptions) -> None:
    if opts.metric not in METRICS:
        raise UsageError(f"--metric {opts.metric!r}: use one of {', '.join(METRICS)}")
    if opts.mcnemar not in MCNEMAR_TESTS:
        raise UsageError(f"--mcnemar {opts.mcnemar!r}: use {' or '.join(MCNEMAR_TESTS)}")
    check_seed(opts.seed)
    if opts.rounds < 1:
        raise UsageError("--rounds must be at least 1")
    if opts.bins < 1:
        raise UsageError("--bins must be at least 1")
    if not 0 < opts.ci < 1:
        raise UsageError("--ci must be between 0 and 1, e.g. 0.95")
    if not 0 < opts.alpha < 1:
        raise UsageError("--alpha must be between 0 and 1, e.g. 0.05")


def _seed_pairs(a: System, b: System) -> list[tuple[int, int]] | None:
    """Pairs of seed positions for the tests over seeds, or None when they do not apply.

    Paired by seed value when at least two seeds are shared, else by order
    (ascending seed) when both have the same number of seeds.
    """
    sa = [p.seed for p in a.seeds]
    sb = [p.seed for p in b.seeds]
    if None not in sa and None not in sb:
        common = sorted(set(sa) & set(sb))
        if len(common) >= 2:
            return [(sa.index(s), sb.index(s)) for s in common]
    if len(sa) == len(sb) >= 2:
        return [(i, i) for i in range(len(sa))]
    return None


def _mcnemar_pair(a: System, b: System) -> tuple[int, int]:
    """McNemar uses one seed per system: the lowest seed both share, else each one's lowest."""
    sa = [p.seed for p in a.seeds]
    sb = [p.seed for p in b.seeds]
    common = sorted(s for s in set(sa) & set(sb) if s is not None)
    if common:
        return sa.index(common[0]), sb.index(common[0])
    return 0, 0


def comparison_pairs(names: list[str], baseline: str | None) -> list[tuple[int, int]]:
    """(system, baseline) index pairs: each system vs ``baseline``, else every pair."""
    if baseline is not None and baseline not in names:
        raise UsageError(f"--baseline {baseline!r} is not a system here (systems: {names})")
    if baseline is not None:
        b = names.index(baseline)
        return [(i, b) for i in range(len(names)) if i != b]
    return [(j, i) for i in range(len(names)) for j in range(i + 1, len(names))]


def pair_rows(
    systems: list[System],
    pairs: list[tuple[int, int]],
    seed_values: list[list[float]],
    rounds: np.ndarray,
    hits: list[list[np.ndarray]] | None,
    opts: CompareOptions,
) -> list[dict[str, Any]]:
    """The rows of one comparison, Holm-adjusted over its pairs.

    ``seed_values[s][j]``: system s's metric on its seed j; ``rounds``: (R, S)
    bootstrap replicates of each system's metric; ``hits[s][j]``: (N,) bool per
    test instance for McNemar, or None where the metric has no such test. Shared
    by classification (``compare``) and ranked retrieval (``compare_ranked``).
    """
    rows: list[dict[str, Any]] = []
    two_sided: list[float] = []
    for i, b in pairs:
        a_sys, b_sys = systems[i], systems[b]
        mean_a = float(np.mean(seed_values[i]))
        mean_b = float(np.mean(seed_values[b]))
        lo, hi, p_one, p_two = summarize_deltas(rounds[:, i] - rounds[:, b], opts.metric, opts.ci)
        sp = _seed_pairs(a_sys, b_sys)
        p_t = p_w = None
        if sp is not None:
            va = [seed_values[i][x] for x, _ in sp]
            vb = [seed_values[b][y] for _, y in sp]
            p_t, p_w = paired_ttest(va, vb), wilcoxon(va, vb)
        p_m = None
        if hits is not None:
            ma, mb = _mcnemar_pair(a_sys, b_sys)
            p_m = mcnemar(*mcnemar_counts(hits[i][ma], hits[b][mb]), opts.mcnemar)
        rows.append(
            result_row(
                a_sys.name,
                b_sys.name,
                opts.metric,
                (mean_a, mean_b),
                (lo, hi),
                p_one,
                p_t,
                p_w,
                p_m,
            )
        )
        two_sided.append(p_two)
    return holm_verdicts(rows, two_sided, opts)


def compare(
    test: TestSet, systems: list[System], opts: CompareOptions, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """One row per (system, baseline) pair, with keys ``ROW_KEYS``."""
    validate_options(opts)
    pairs = comparison_pairs([s.name for s in systems], opts.baseline)
    k = len(test.labels)
    stats = [
        [instance_stats(opts.metric, p.probs, test.y, k, opts.bins) for p in s.seeds]
        for s in systems
    ]
    seed_values = [[point_estimate(opts.metric, x, k) for x in s] for s in stats]
    # McNemar tests per-instance correctness: a test of accuracy, of no other metric.
    correct = (
        [[p.probs.argmax(axis=1) == test.y for p in s.seeds] for s in systems]
        if opts.metric == "accuracy"
        else None
    )
    rounds = paired_bootstrap(stats, opts.metric, k, opts.rounds, opts.seed, progress)
    return pair_rows(systems, pairs, seed_values, rounds, correct, opts)


def result_row(
    system: str,
    baseline: str,
    metric: str,
    means: tuple[float, float],
    ci: tuple[float, float],
    p_bootstrap: float,
    p_ttest: float | None,
    p_wilcoxon: float | None,
    p_mcnemar: float | None,
) -> dict[str, Any]:
    """One row of a comparison table; ``p_adjusted`` and ``verdict`` come from :func:`holm_verdicts`."""
    return {
        "system": system,
        "baseline": baseline,
        "metric": metric,
        "mean": means[0],
        "baseline_mean": means[1],
        "delta": means[0] - means[1],
        "ci_low": ci[0],
        "ci_high": ci[1],
        "p_bootstrap": p_bootstrap,
        "p_ttest": p_ttest,
        "p_wilcoxon": p_wilcoxon,
        "p_mcnemar": p_mcnemar,
        "p_adjusted": None,
        "verdict": None,
    }


def holm_verdicts(
    rows: list[dict[str, Any]], two_sided: list[float], opts: CompareOptions
) -> list[dict[str, Any]]:
    """Holm-adjust the rows' two-sided bootstrap p-values and give each row its verdict."""
    for row, p_adj in zip(rows, holm(two_sided), strict=True):
        row["p_adjusted"] = p_adj
        row["verdict"] = verdict(row["delta"], p_adj, opts.metric, opts.alpha)
    return rows


def verdict(delta: float, p_adjusted: float | None, metric: str, alpha: float) -> str:
    if p_adjusted is None or p_adjusted >= alpha or delta == 0:
        return "no difference"
    better = delta < 0 if metric in LOWER_IS_BETTER else delta > 0
    return "better" if better else "worse"


def rows_table(rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema(
        [
            ("system", pa.string()),
            ("baseline", pa.string()),
            ("metric", pa.string()),
            *[(key, pa.float64()) for key in ROW_KEYS[3:13]],
            ("verdict", pa.string()),
        ]
    )
    return pa.Table.from_pylist([{k: r[k] for k in ROW_KEYS} for r in rows], schema=schema)


def compare_files(
    preds: list[str],
    output: str | None = None,
    opts: CompareOptions | None = None,
    *,
    labels: list[str] | None = None,
    names: dict[str, str] | None = None,
    plot: str | None = None,
    progress: Progress | None = None,
) -> tuple[TestSet, list[System], list[dict[str, Any]]]:
    """``lsctl compare`` on prediction files: load, test, write ``output``, draw ``plot``.

    Returns the test set, the systems and one row per (system, baseline) pair.
    Outputs are checked before anything is read.
    """
    from lsctl.artifacts import check_output, make_meta, write_artifact

    opts = opts or CompareOptions()
    validate_options(opts)
    check_names(names, list(preds))
    if output is not None:
        check_output(output, list(preds))
    if plot:
        from lsctl.evaluate.plots import check_plot_path

        check_plot_path(plot)
    test, systems = load_predictions(list(preds), labels, names)
    rows = compare(test, systems, opts, progress)
    if output is not None:
        params = comparison_params(opts, systems, bins=opts.bins)
        inputs = [p.reader.input_record() for s in systems for p in s.seeds]
        meta = make_meta("comparison", test.labels, params, inputs)
        write_artifact(rows_table(rows), output, meta, list(preds))
    if plot:
        from lsctl.evaluate.plots import forest_plot

        forest_plot(rows, plot, opts.metric, opts.ci)
    return test, systems, rows
