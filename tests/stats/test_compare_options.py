"""`lsctl compare`: every option takes effect, checked against hand computations.

The systems' seeds overlap only in part (A: 1, 2, 3; B: 2, 3, 4; C: 2, 3, 4),
so pairing by seed value, by file order and by "first file of each system"
give different numbers, and a test fails when the wrong one is used. D (5, 6,
7) shares no seed with B and E (2) one: they exercise the documented
fallbacks.

The bootstrap is recomputed here from the resampling counts
(``count_matrix`` gives round r's counts from (seed, r) alone): per round,
each system's accuracy is the mean over its seeds of Σ w·correct / N, then Δ,
its quantiles, the two-sided p and Holm's step-down, all written out below.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats

from lsctl.artifacts import make_meta, write_artifact
from lsctl.evaluate.run import predictions_table
from lsctl.stats.bootstrap import count_matrix

LABELS = ["neg", "neu", "pos"]
N = 400
ROUNDS = 400
BOOT_SEED = 7
SEEDS = {"A": (1, 2, 3), "B": (2, 3, 4), "C": (2, 3, 4)}
# Each file's accuracy, exactly (which rows are right is random per file, so
# McNemar on "A's first file" differs from McNemar on seed 2). A is slightly
# better than B on the seeds they share and mixed by file order; C is clearly
# better than both.
ACC = {
    ("A", 1): 0.64,
    ("A", 2): 0.72,
    ("A", 3): 0.70,
    ("B", 2): 0.69,
    ("B", 3): 0.68,
    ("B", 4): 0.66,
    ("C", 2): 0.78,
    ("C", 3): 0.79,
    ("C", 4): 0.77,
}


SEEDS_EXTRA = {"D": (5, 6, 7), "E": (2,)}
EXTRA = {("D", 5): 0.66, ("D", 6): 0.75, ("D", 7): 0.70, ("E", 2): 0.71}


def _write(path, name, seed, correct, y, rng):
    """A prediction file whose argmax is the gold label exactly where ``correct``."""
    z = rng.normal(size=(len(y), len(LABELS)))
    z[np.arange(len(y)), np.where(correct, y, (y + 1) % len(LABELS))] += 4.0
    table, _ = predictions_table(np.arange(len(y)), LABELS, y, z)
    write_artifact(table, str(path), make_meta("predictions", LABELS, {}, [], name=name, seed=seed))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, N)
    out = {}
    # Written in an order that is neither by system nor by seed.
    for (name, seed), acc in sorted(ACC.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
        p = d / f"{name}-s{seed}.parquet"
        correct = np.zeros(N, dtype=bool)
        correct[rng.permutation(N)[: round(acc * N)]] = True
        _write(p, name, seed, correct, y, rng)
        out[(name, seed)] = p
    # D shares no seed with B, E one seed; their own stream keeps A–C as above.
    rng = np.random.default_rng(6)
    for (name, seed), acc in EXTRA.items():
        p = d / f"{name}-s{seed}.parquet"
        correct = np.zeros(N, dtype=bool)
        correct[rng.permutation(N)[: round(acc * N)]] = True
        _write(p, name, seed, correct, y, rng)
        out[(name, seed)] = p
    return {"dir": d, "files": out}


def _correct(path) -> np.ndarray:
    t = pq.read_table(path)
    pred = t.column("pred").to_pylist()
    gold = t.column("label").to_pylist()
    return np.array([p == g for p, g in zip(pred, gold, strict=True)])


def _acc(path) -> float:
    c = _correct(path)
    return sum(bool(v) for v in c) / len(c)


def _run(cli, files, tmp_path, *args, systems="ABC"):
    paths = [str(p) for (name, _), p in files["files"].items() if name in systems]
    r = cli("compare", *paths, "-o", tmp_path / "c.parquet", "--rounds", ROUNDS, *args, "--json")
    assert r.exit_code == 0, r.stderr
    return {(x["system"], x["baseline"]): x for x in json.loads(r.stdout)["rows"]}


def _holm(p: list[float]) -> list[float]:
    """Holm's step-down adjustment, written out: sort, scale by (m − rank), running max."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def _boot_deltas(files, system, baseline):
    """Per-round Δ accuracy (system − baseline), seeds averaged within each round."""
    w = count_matrix(BOOT_SEED, 0, ROUNDS, N)

    def per_round(name):
        accs = [w @ _correct(files["files"][(name, s)]).astype(float) / N for s in SEEDS[name]]
        return np.mean(accs, axis=0)

    return per_round(system) - per_round(baseline)


def _p_two(deltas: np.ndarray) -> float:
    # Davison & Hinkley's (1 + count) / (R + 1).
    le = (1 + sum(1 for d in deltas if d <= 0)) / (len(deltas) + 1)
    ge = (1 + sum(1 for d in deltas if d >= 0)) / (len(deltas) + 1)
    return min(1.0, 2 * min(le, ge))


def test_mcnemar_uses_a_shared_seed(cli, files, tmp_path):
    rows = _run(cli, files, tmp_path, "--baseline", "B", "--seed", BOOT_SEED)
    f = files["files"]

    def exact(a, b):
        ca, cb = _correct(a), _correct(b)
        n01, n10 = int((ca & ~cb).sum()), int((~ca & cb).sum())
        return stats.binomtest(n01, n01 + n10, 0.5).pvalue

    shared = exact(f[("A", 2)], f[("B", 2)])  # the lowest seed both have
    first_files = exact(f[("A", 1)], f[("B", 2)])
    assert abs(shared - first_files) > 1e-3  # so the test tells the two apart
    assert rows[("A", "B")]["p_mcnemar"] == pytest.approx(shared, rel=1e-9)


def test_ttest_and_wilcoxon_pair_by_seed_value(cli, files, tmp_path):
    rows = _run(cli, files, tmp_path, "--baseline", "B", "--seed", BOOT_SEED)
    f = files["files"]
    a = [_acc(f[("A", s)]) for s in (2, 3)]  # seeds A and B share
    b = [_acc(f[("B", s)]) for s in (2, 3)]
    by_order_a = [_acc(f[("A", s)]) for s in (1, 2, 3)]
    by_order_b = [_acc(f[("B", s)]) for s in (2, 3, 4)]
    # t by hand: mean of the paired differences over its standard error, df = n − 1.
    d = [x - z for x, z in zip(a, b, strict=True)]
    mean = sum(d) / len(d)
    sd = math.sqrt(sum((v - mean) ** 2 for v in d) / (len(d) - 1))
    t = mean / (sd / math.sqrt(len(d)))
    p_t = 2 * stats.t.sf(abs(t), len(d) - 1)
    assert p_t == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-12)
    assert abs(p_t - stats.ttest_rel(by_order_a, by_order_b).pvalue) > 1e-3
    row = rows[("A", "B")]
    assert row["p_ttest"] == pytest.approx(p_t, rel=1e-9)
    assert row["p_wilcoxon"] == pytest.approx(stats.wilcoxon(a, b).pvalue, rel=1e-12)
    assert row["p_wilcoxon"] != pytest.approx(stats.wilcoxon(by_order_a, by_order_b).pvalue)
    # The means are over each system's own seeds, shared or not.
    assert row["mean"] == pytest.approx(np.mean(by_order_a), abs=1e-12)
    assert row["baseline_mean"] == pytest.approx(np.mean(by_order_b), abs=1e-12)


def test_ci_p_adjusted_and_verdicts_by_hand(cli, files, tmp_path):
    pairs = [("A", "B"), ("C", "B")]
    deltas = {pair: _boot_deltas(files, *pair) for pair in pairs}
    p_two = [_p_two(deltas[pair]) for pair in pairs]
    p_adj = dict(zip(pairs, _holm(p_two), strict=True))

    rows95 = _run(cli, files, tmp_path, "--baseline", "B", "--seed", BOOT_SEED)
    rows90 = _run(cli, files, tmp_path, "--baseline", "B", "--seed", BOOT_SEED, "--ci", "0.9")
    for pair in pairs:
        lo95, hi95 = np.quantile(deltas[pair], [0.025, 0.975])
        lo90, hi90 = np.quantile(deltas[pair], [0.05, 0.95])
        assert rows95[pair]["ci_low"] == pytest.approx(lo95, abs=1e-12)
        assert rows95[pair]["ci_high"] == pytest.approx(hi95, abs=1e-12)
        assert rows90[pair]["ci_low"] == pytest.approx(lo90, abs=1e-12)
        assert rows90[pair]["ci_high"] == pytest.approx(hi90, abs=1e-12)
        # --ci 0.9 narrows the interval.
        assert hi90 - lo90 < hi95 - lo95
        le = (1 + sum(1 for x in deltas[pair] if x <= 0)) / (ROUNDS + 1)
        assert rows95[pair]["p_bootstrap"] == pytest.approx(le, abs=1e-12)
        assert rows95[pair]["p_adjusted"] == pytest.approx(p_adj[pair], abs=1e-12)
        assert rows90[pair]["p_adjusted"] == pytest.approx(p_adj[pair], abs=1e-12)

    # --alpha: a row is significant exactly when its adjusted p is below alpha.
    # A's adjusted p sits well inside (0.05, 1), so the default alpha and the
    # given one disagree on it.
    p = p_adj[("A", "B")]
    assert 0.06 < p < 0.95, p
    just_above, just_below = p + 0.01, p - 0.01
    above = _run(
        cli, files, tmp_path, "--baseline", "B", "--seed", BOOT_SEED, "--alpha", just_above
    )
    below = _run(
        cli, files, tmp_path, "--baseline", "B", "--seed", BOOT_SEED, "--alpha", just_below
    )
    better = "better" if rows95[("A", "B")]["delta"] > 0 else "worse"
    assert above[("A", "B")]["verdict"] == better
    assert below[("A", "B")]["verdict"] == "no difference"
    assert rows95[("A", "B")]["verdict"] == "no difference"  # 0.05 < p
    # C is clearly better: its adjusted p is below both alphas.
    assert p_adj[("C", "B")] < just_below
    assert above[("C", "B")]["verdict"] == below[("C", "B")]["verdict"] == "better"


def test_holm_over_all_pairs(cli, files, tmp_path):
    rows = _run(cli, files, tmp_path, "--seed", BOOT_SEED)
    pairs = list(rows)
    assert sorted(tuple(sorted(pair)) for pair in pairs) == [("A", "B"), ("A", "C"), ("B", "C")]
    p_two = [_p_two(_boot_deltas(files, *pair)) for pair in pairs]
    for pair, want in zip(pairs, _holm(p_two), strict=True):
        assert rows[pair]["p_adjusted"] == pytest.approx(want, abs=1e-12)


def test_mcnemar_chi2_is_the_continuity_corrected_formula(cli, files, tmp_path):
    rows = _run(cli, files, tmp_path, "--baseline", "B", "--seed", BOOT_SEED, "--mcnemar", "chi2")
    f = files["files"]
    ca, cb = _correct(f[("A", 2)]), _correct(f[("B", 2)])
    n01 = sum(1 for x, z in zip(ca, cb, strict=True) if x and not z)
    n10 = sum(1 for x, z in zip(ca, cb, strict=True) if z and not x)
    stat = (abs(n01 - n10) - 1) ** 2 / (n01 + n10)
    # χ² with one degree of freedom: P[X > s] = P[|Z| > √s] = erfc(√(s/2)).
    want = math.erfc(math.sqrt(stat / 2))
    exact = stats.binomtest(n01, n01 + n10, 0.5).pvalue
    assert abs(want - exact) > 1e-6  # so the test tells chi2 from exact
    assert rows[("A", "B")]["p_mcnemar"] == pytest.approx(want, rel=1e-9)


def test_metric_ece_uses_bins(cli, files, tmp_path):
    """`--metric ece --bins 4`: each system's mean is the mean over seeds of a 4-bin ECE loop."""
    rows = _run(
        cli, files, tmp_path, "--baseline", "B", "--metric", "ece", "--bins", "4", "--rounds", "50"
    )

    def ece(path, bins):
        t = pq.read_table(path)
        probs = np.array(t.column("probs").to_pylist(), dtype=np.float64)
        gold = [LABELS.index(g) for g in t.column("label").to_pylist()]
        total = 0.0
        for b in range(bins):
            lo, hi = b / bins, (b + 1) / bins
            members = [
                i for i, p in enumerate(probs) if lo < max(p) <= hi or (b == 0 and max(p) == 0)
            ]
            if members:
                acc = sum(1 for i in members if int(np.argmax(probs[i])) == gold[i]) / len(members)
                conf = sum(max(probs[i]) for i in members) / len(members)
                total += len(members) / len(probs) * abs(acc - conf)
        return total

    f = files["files"]
    want = np.mean([ece(f[("A", s)], 4) for s in SEEDS["A"]])
    assert rows[("A", "B")]["mean"] == pytest.approx(want, abs=1e-6)
    assert abs(want - np.mean([ece(f[("A", s)], 15) for s in SEEDS["A"]])) > 1e-3


def test_without_two_shared_seeds_the_documented_fallbacks_apply(cli, files, tmp_path):
    f = files["files"]

    def exact(a, b):
        ca, cb = _correct(a), _correct(b)
        n01, n10 = int((ca & ~cb).sum()), int((~ca & cb).sum())
        return stats.binomtest(n01, n01 + n10, 0.5).pvalue

    # D (5, 6, 7) and B (2, 3, 4) share no seed: the seed tests pair by ascending
    # seed, McNemar takes each system's lowest seed.
    row = _run(cli, files, tmp_path, "--baseline", "B", systems="BD")[("D", "B")]
    d = [_acc(f[("D", s)]) for s in (5, 6, 7)]
    b = [_acc(f[("B", s)]) for s in (2, 3, 4)]
    assert row["p_ttest"] == pytest.approx(stats.ttest_rel(d, b).pvalue, rel=1e-9)
    assert row["p_wilcoxon"] == pytest.approx(stats.wilcoxon(d, b).pvalue, rel=1e-9)
    assert row["p_mcnemar"] == pytest.approx(exact(f[("D", 5)], f[("B", 2)]), rel=1e-9)

    # E has one seed, shared with B: no test over seeds, McNemar on that seed.
    row = _run(cli, files, tmp_path, "--baseline", "B", systems="BE")[("E", "B")]
    assert row["p_ttest"] is None and row["p_wilcoxon"] is None
    assert row["p_mcnemar"] == pytest.approx(exact(f[("E", 2)], f[("B", 2)]), rel=1e-9)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--ci", "1"], "--ci"),
        (["--ci", "0"], "--ci"),
        (["--alpha", "0"], "--alpha"),
        (["--alpha", "1.5"], "--alpha"),
        (["--mcnemar", "fisher"], "--mcnemar"),
        (["--seed", "-1"], "--seed"),
        (["--rounds", "0"], "--rounds"),
        (["--metric", "auc"], "--metric"),
    ],
)
def test_bad_option_values_are_one_usage_error(cli, files, tmp_path, args, needle):
    out = tmp_path / "c.parquet"
    paths = [str(files["files"][("A", 2)]), str(files["files"][("B", 2)])]
    r = cli("compare", *paths, "-o", out, *args)
    assert r.exit_code == 2, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and needle in lines[0], r.stderr
    assert not out.exists()
