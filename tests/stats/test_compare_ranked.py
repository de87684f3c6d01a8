"""`lsctl compare` on ranked retrieval files: per-question scores as the paired unit.

The bootstrap is recomputed here from the resampling counts (``count_matrix``
gives round r's counts from (seed, r) alone): per round, a system's MRR or
Recall@k is the mean over its seeds of Σ_q w_q·score_q / N, written out below,
as are the t-test (scipy), McNemar on Recall@k hits and Holm's step-down.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from lsctl.artifacts import make_meta, write_artifact
from lsctl.stats.bootstrap import count_matrix

N = 300
ROUNDS = 400
BOOT_SEED = 5


def _write(path, ranks, name, seed, pool="all", qids=None):
    qids = qids or [f"q{i}" for i in range(len(ranks))]
    table = pa.table(
        {
            "qid": qids,
            "gold_id": [f"s{i}" for i in range(len(ranks))],
            "rank": pa.array(np.asarray(ranks, dtype=np.int64)),
        }
    )
    meta = make_meta("ranked", None, {"method": "test"}, [], name=name, seed=seed, pool=pool,
                     fold="test", pool_size=1000)  # fmt: skip
    write_artifact(table, str(path), meta)
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("ranked")
    rng = np.random.default_rng(0)
    out, ranks = [], {}
    for name, scale in (("bm25", 30.0), ("dual", 12.0), ("kwls", 10.0)):
        for seed in (1, 2, 3):
            r = 1 + rng.geometric(1 / scale, N) - 1
            ranks[name, seed] = r
            # Files listed in reverse question order for one system: alignment is by qid.
            if name == "kwls":
                qids = [f"q{i}" for i in range(N)][::-1]
                out.append(_write(d / f"{name}{seed}.parquet", r[::-1], name, seed, qids=qids))
            else:
                out.append(_write(d / f"{name}{seed}.parquet", r, name, seed))
    return d, out, ranks


def _score(r, metric):
    return 1.0 / r if metric == "mrr" else (r <= int(metric.split("@")[1])).astype(float)


@pytest.mark.parametrize("metric", ["mrr", "recall@10"])
def test_rows_match_a_hand_recomputation(cli, files, metric):
    _, paths, ranks = files
    res = cli("compare", *paths, "--baseline", "bm25", "--metric", metric, "--rounds",
              str(ROUNDS), "--seed", str(BOOT_SEED), "--json")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert (out["pool"], out["fold"], out["pool_size"], out["n"]) == ("all", "test", 1000, N)
    w = count_matrix(BOOT_SEED, 0, ROUNDS, N)
    per_round = {
        name: np.mean([w @ _score(ranks[name, s], metric) / N for s in (1, 2, 3)], axis=0)
        for name in ("bm25", "dual", "kwls")
    }
    two_sided = []
    for row in out["rows"]:
        a, b = row["system"], row["baseline"]
        va = [_score(ranks[a, s], metric).mean() for s in (1, 2, 3)]
        vb = [_score(ranks[b, s], metric).mean() for s in (1, 2, 3)]
        assert row["mean"] == pytest.approx(np.mean(va))
        assert row["delta"] == pytest.approx(np.mean(va) - np.mean(vb))
        delta = per_round[a] - per_round[b]
        lo, hi = np.quantile(delta, [0.025, 0.975])
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi))
        # (1 + rounds at or below 0) / (R + 1), Davison & Hinkley's p.
        le, ge = ((1 + np.sum(x)) / (len(delta) + 1) for x in (delta <= 0, delta >= 0))
        assert row["p_bootstrap"] == pytest.approx(le)
        two_sided.append(min(1.0, 2 * min(le, ge)))
        assert row["p_ttest"] == pytest.approx(stats.ttest_rel(va, vb).pvalue)
        if metric == "mrr":
            assert row["p_mcnemar"] is None
        else:
            ha, hb = ranks[a, 1] <= 10, ranks[b, 1] <= 10
            want = stats.binomtest(int(np.sum(ha & ~hb)), int(np.sum(ha != hb)), 0.5).pvalue
            assert row["p_mcnemar"] == pytest.approx(want)
    order = np.argsort(two_sided)
    holm = np.minimum(1, np.maximum.accumulate([p * (len(order) - i) for i, p in
                                                 enumerate(np.array(two_sided)[order])]))  # fmt: skip
    got = [out["rows"][i]["p_adjusted"] for i in order]
    assert got == pytest.approx(holm.tolist())


def test_table_states_the_pool_and_default_metric_is_mrr(cli, files, tmp_path):
    _, paths, _ = files
    res = cli("compare", *paths, "--rounds", "50", "-o", tmp_path / "cmp.parquet")
    assert res.exit_code == 0, res.stderr
    assert "mrr (pool all (1000), fold test) on 300 questions" in " ".join(res.stderr.split())
    from lsctl.artifacts import read_artifact

    table, reader = read_artifact(str(tmp_path / "cmp.parquet"))
    assert reader.meta["params"]["pool"] == "all" and table.num_rows == 3


def test_identical_systems_are_no_difference(cli, tmp_path):
    r = np.arange(1, 101)
    a = _write(tmp_path / "a.parquet", r, "a", 1)
    b = _write(tmp_path / "b.parquet", r, "b", 1)
    res = cli("compare", a, b, "--rounds", "100", "--json")
    row = json.loads(res.stdout)["rows"][0]
    assert (row["delta"], row["p_adjusted"], row["verdict"]) == (0.0, 1.0, "no difference")


def test_mixed_pools_and_kinds_are_refused(cli, tmp_path):
    r = np.arange(1, 11)
    a = _write(tmp_path / "a.parquet", r, "a", 1, pool="all")
    b = _write(tmp_path / "b.parquet", r, "b", 1, pool="fold")
    res = cli("compare", a, b)
    assert res.exit_code == 1 and "compare files that rank the same pool" in res.stderr
    res = cli("compare", a, _write(tmp_path / "c.parquet", r, "c", 1), "--metric", "accuracy")
    assert res.exit_code == 2 and "mrr" in res.stderr
    c = _write(tmp_path / "d.parquet", r[:5], "d", 1)
    res = cli("compare", a, c)
    assert res.exit_code == 1 and "questions differ" in res.stderr
