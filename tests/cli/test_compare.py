"""`lsctl compare` end to end on synthetic prediction files."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score

from lsctl.artifacts import make_meta, read_artifact, write_artifact
from lsctl.evaluate.run import predictions_table

LABELS = ["neg", "neu", "pos"]
N = 1500


def _gold(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 3, N)


def _write(path, name, seed, acc, y, rng, labels=LABELS, ids=None):
    """A prediction file whose argmax is right on a random acc share of rows."""
    z = rng.normal(size=(len(y), len(labels)))
    ok = rng.random(len(y)) < acc
    z[np.arange(len(y)), np.where(ok, y, (y + 1) % len(labels))] += 3.0
    ids = np.arange(len(y)) if ids is None else ids
    table, _ = predictions_table(ids, labels, y, z)
    meta = make_meta("predictions", labels, {}, [], name=name, seed=seed)
    write_artifact(table, str(path), meta)
    return table


@pytest.fixture
def preds(tmp_path):
    """base and good with 3 seeds each (good ≈ 6 points better), weak with 3 seeds (worse)."""
    rng = np.random.default_rng(1)
    y = _gold()
    files = {}
    for name, acc in (("base", 0.78), ("good", 0.84), ("weak", 0.70)):
        for s in (11, 12, 13):
            p = tmp_path / f"{name}-{s}.parquet"
            _write(p, name, s, acc, y, rng)
            files[(name, s)] = p
    return files


def _seed_accuracy(path):
    t = pq.read_table(path)
    return accuracy_score(t.column("label").to_pylist(), t.column("pred").to_pylist())


def test_baseline_rows_and_tests_over_seeds(cli, preds, tmp_path):
    out = tmp_path / "cmp.parquet"
    r = cli(
        "compare", *preds.values(), "--baseline", "base", "-o", out, "--rounds", "2000", "--json"
    )
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    rows = {row["system"]: row for row in doc["rows"]}
    assert set(rows) == {"good", "weak"}
    keys = [
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
    ]
    for row in doc["rows"]:
        assert list(row) == keys
    base = [_seed_accuracy(preds[("base", s)]) for s in (11, 12, 13)]
    good = [_seed_accuracy(preds[("good", s)]) for s in (11, 12, 13)]
    g = rows["good"]
    assert g["mean"] == pytest.approx(np.mean(good))
    assert g["baseline_mean"] == pytest.approx(np.mean(base))
    assert g["delta"] == pytest.approx(np.mean(good) - np.mean(base))
    assert g["p_ttest"] == pytest.approx(stats.ttest_rel(good, base).pvalue, rel=1e-12)
    assert g["p_wilcoxon"] == pytest.approx(stats.wilcoxon(good, base).pvalue, rel=1e-12)
    assert g["ci_low"] < g["delta"] < g["ci_high"]
    assert g["verdict"] == "better" and rows["weak"]["verdict"] == "worse"
    # McNemar on the lowest shared seed (11), against scipy's binomial test.
    tg, tb = pq.read_table(preds[("good", 11)]), pq.read_table(preds[("base", 11)])
    cg = np.array(tg.column("pred").to_pylist()) == np.array(tg.column("label").to_pylist())
    cb = np.array(tb.column("pred").to_pylist()) == np.array(tb.column("label").to_pylist())
    n01, n10 = int((cg & ~cb).sum()), int((~cg & cb).sum())
    assert g["p_mcnemar"] == pytest.approx(stats.binomtest(n01, n01 + n10).pvalue, rel=1e-9)

    table, reader = read_artifact(str(out))
    assert reader.meta["kind"] == "comparison"
    assert len(reader.meta["inputs"]) == 9
    assert table.to_pylist() == doc["rows"]


def test_all_pairs_holm_and_plot(cli, preds, tmp_path):
    out, png = tmp_path / "cmp.parquet", tmp_path / "forest.png"
    r = cli("compare", *preds.values(), "-o", out, "--rounds", "500", "--plot", png, "--json")
    assert r.exit_code == 0, r.stderr
    assert f"wrote {out}, {png}" in r.stderr  # every file written is reported
    rows = json.loads(r.stdout)["rows"]
    assert [(x["system"], x["baseline"]) for x in rows] == [
        ("good", "base"),
        ("weak", "base"),
        ("weak", "good"),
    ]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Holm's adjusted p are monotone in the raw two-sided p, and never below them.
    for x in rows:
        assert x["p_adjusted"] >= min(1.0, 2 * min(x["p_bootstrap"], 1 - x["p_bootstrap"])) - 1e-12


def test_single_seed_has_no_seed_tests_and_rich_table(cli, preds, tmp_path):
    r = cli(
        "compare",
        preds[("base", 11)],
        preds[("good", 11)],
        "-o",
        tmp_path / "c.parquet",
        "--rounds",
        "200",
    )
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert "good" in r.stderr and "verdict" in r.stderr
    t, _ = read_artifact(str(tmp_path / "c.parquet"))
    assert t.column("p_ttest").to_pylist() == [None]
    assert t.column("p_wilcoxon").to_pylist() == [None]


def test_nll_orientation(cli, preds, tmp_path):
    r = cli(
        "compare",
        *preds.values(),
        "--baseline",
        "base",
        "--metric",
        "nll",
        "-o",
        tmp_path / "c.parquet",
        "--rounds",
        "500",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    rows = {x["system"]: x for x in json.loads(r.stdout)["rows"]}
    assert rows["good"]["delta"] < 0
    assert rows["good"]["verdict"] == "better"
    assert rows["good"]["p_bootstrap"] < 0.05
    # McNemar tests per-instance correctness, i.e. accuracy: no p for NLL.
    assert all(x["p_mcnemar"] is None for x in rows.values())


def test_fail_if_worse_exits_3(cli, preds, tmp_path):
    files = [preds[("base", s)] for s in (11, 12, 13)] + [preds[("weak", s)] for s in (11, 12, 13)]
    r = cli(
        "compare",
        *files,
        "--baseline",
        "base",
        "-o",
        tmp_path / "c.parquet",
        "--rounds",
        "500",
        "--fail-if-worse",
        "-q",
    )
    assert r.exit_code == 3
    assert "weak is significantly worse than base" in r.stderr
    assert (tmp_path / "c.parquet").exists()
    ok = [preds[("base", s)] for s in (11, 12, 13)] + [preds[("good", s)] for s in (11, 12, 13)]
    r = cli(
        "compare",
        *ok,
        "--baseline",
        "base",
        "-o",
        tmp_path / "d.parquet",
        "--rounds",
        "500",
        "--fail-if-worse",
        "-q",
    )
    assert r.exit_code == 0, r.stderr


def _one_error_line(r, code, *needles):
    assert r.exit_code == code, (r.exit_code, r.stderr)
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_bad_inputs(cli, tmp_path, preds):
    rng = np.random.default_rng(2)
    y = _gold()
    a = preds[("base", 11)]
    out = tmp_path / "c.parquet"

    _one_error_line(cli("compare", a, "-o", out), 1, "at least two")

    other_ids = tmp_path / "ids.parquet"
    _write(other_ids, "x", 1, 0.8, y, rng, ids=np.arange(N) + 1)
    _one_error_line(cli("compare", a, other_ids, "-o", out), 1, str(other_ids), f"id {N}")

    other_gold = tmp_path / "gold.parquet"
    y2 = y.copy()
    y2[7] = (y2[7] + 1) % 3
    _write(other_gold, "x", 1, 0.8, y2, rng)
    _one_error_line(cli("compare", a, other_gold, "-o", out), 1, str(other_gold), "id 7")

    other_labels = tmp_path / "labels.parquet"
    _write(other_labels, "x", 1, 0.8, y, rng, labels=["neg", "neu", "pos2"])
    _one_error_line(cli("compare", a, other_labels, "-o", out), 1, "label")

    nan = tmp_path / "nan.parquet"
    t = pq.read_table(preds[("good", 11)])
    probs = np.array(t.column("probs").to_pylist(), dtype=np.float32)
    probs[5, 1] = np.nan
    from lsctl.artifacts import prob_array

    t = t.set_column(t.schema.get_field_index("probs"), "probs", prob_array(probs))
    pq.write_table(t, nan)
    _one_error_line(cli("compare", a, nan, "-o", out), 1, "NaN", "id 5")

    _one_error_line(cli("compare", a, preds[("base", 12)], "-o", out), 1, "one system")
    _one_error_line(
        cli("compare", a, preds[("good", 11)], "--baseline", "nope", "-o", out), 2, "nope"
    )
    _one_error_line(
        cli("compare", a, preds[("good", 11)], "--metric", "auc", "-o", out), 2, "--metric"
    )
    _one_error_line(cli("compare", a, preds[("good", 11)], "-o", tmp_path / "c.csv"), 2, ".csv")
    assert not out.exists()


def test_reordered_rows_are_aligned_by_id(cli, preds, tmp_path):
    t = pq.read_table(preds[("good", 11)])
    perm = np.random.default_rng(0).permutation(t.num_rows)
    shuffled = tmp_path / "shuffled.parquet"
    pq.write_table(t.take(pa.array(perm)), shuffled)
    args = ["--baseline", "base", "--rounds", "300", "--json"]
    r1 = cli(
        "compare", preds[("base", 11)], preds[("good", 11)], "-o", tmp_path / "a.parquet", *args
    )
    r2 = cli("compare", preds[("base", 11)], shuffled, "-o", tmp_path / "b.parquet", *args)
    assert r1.exit_code == r2.exit_code == 0, r2.stderr
    assert json.loads(r1.stdout)["rows"] == json.loads(r2.stdout)["rows"]
