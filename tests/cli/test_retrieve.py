"""`lsctl retrieve bm25` and `lsctl retrieve eval` end to end on the toy corpus."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "retrieval"))
from retrieval_kit import QUESTIONS, SENTENCES, bm25_plain, write_toy

from lsctl.artifacts import read_artifact


def _hand_ranks(scores, gold_cols):
    """Rank of the first gold in a stable descending sort, by a plain loop."""
    out = []
    for row, golds in zip(scores, gold_cols, strict=True):
        order = sorted(range(len(row)), key=lambda j: (-row[j], j))
        out.append(1 + min(order.index(g) for g in golds))
    return out


def test_bm25_whole_pool_options_take_effect(cli, tmp_path):
    q, s = write_toy(tmp_path)
    out = tmp_path / "r.parquet"
    res = cli(
        "retrieve", "bm25", "--questions", q, "--sentences", s, "--fold", "all",
        "--pool", "all", "--k1", "2.0", "--b", "0.3", "--top-k", "2", "--name", "lexical",
        "-o", out, "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    summary = json.loads(res.stdout)
    docs = [r[1] for r in SENTENCES]
    plain = bm25_plain([r[1] for r in QUESTIONS], docs, 2.0, 0.3)
    golds = [[j for j, d in enumerate(docs) if d == docs[int(r[2][1])]] for r in QUESTIONS]
    want = _hand_ranks(plain, golds)
    table, reader = read_artifact(str(out))
    assert table.column("rank").to_pylist() == want
    assert summary["mrr"] == pytest.approx(np.mean([1 / r for r in want]))
    assert summary["recall@1"] == pytest.approx(np.mean([r <= 1 for r in want]))
    meta = reader.meta
    assert (meta["kind"], meta["pool"], meta["fold"], meta["name"]) == (
        "ranked", "all", "all", "lexical",
    )  # fmt: skip
    assert (meta["params"]["k1"], meta["params"]["b"], meta["pool_size"]) == (2.0, 0.3, 6)
    tops = table.column("top_scores").to_pylist()
    assert all(len(t) == 2 for t in tops)
    np.testing.assert_allclose(tops[0], sorted(plain[0], reverse=True)[:2], rtol=1e-6)


def test_bm25_fold_pool_and_eval(cli, tmp_path):
    q, s = write_toy(tmp_path)
    out = tmp_path / "fold.parquet"
    res = cli(
        "retrieve", "bm25", "--questions", q, "--sentences", s, "--fold", "test",
        "--pool", "fold", "-o", out, "--quiet",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert res.stderr == ""
    table = pq.read_table(out)
    assert table.column("qid").to_pylist() == ["q1", "q3"]
    pool = {"s2", "s3", "s4"}
    assert all(set(t) <= pool for t in table.column("top_ids").to_pylist())
    res = cli("retrieve", "eval", out, "--json")
    assert res.exit_code == 0, res.stderr
    ev = json.loads(res.stdout)
    assert (ev["pool"], ev["fold"], ev["pool_size"], ev["n"]) == ("fold", "test", 3, 2)
    ranks = table.column("rank").to_pylist()
    assert ev["recall@1"] == pytest.approx(np.mean([r == 1 for r in ranks]))
    res = cli("retrieve", "eval", out)
    assert res.exit_code == 0
    assert "fold (3)" in res.stderr and "pool" in res.stderr


def test_eval_quiet_prints_nothing(cli, tmp_path):
    q, s = write_toy(tmp_path)
    out = tmp_path / "r.parquet"
    assert cli("retrieve", "bm25", "--questions", q, "--sentences", s, "--fold", "all",
               "-o", out, "-q").exit_code == 0  # fmt: skip
    res = cli("retrieve", "eval", out, "--quiet")
    assert res.exit_code == 0 and res.stdout == "" and res.stderr == ""


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--pool", "nearby"], 2, "--pool"),
        (["--k1", "0"], 2, "--k1"),
        (["--b", "1.5"], 2, "--b"),
        (["--top-k", "0"], 2, "--top-k"),
        (["--fold", "holdout"], 1, "no row of fold 'holdout'"),
    ],
)
def test_bm25_bad_options(cli, tmp_path, args, code, needle):
    q, s = write_toy(tmp_path)
    res = cli("retrieve", "bm25", "--questions", q, "--sentences", s, "-o",
              tmp_path / "x.parquet", *args)  # fmt: skip
    assert res.exit_code == code
    assert res.stderr.startswith("Error: ") and needle in res.stderr
    assert res.stderr.count("\n") == 1
    assert not (tmp_path / "x.parquet").exists()


def test_gold_outside_fold_pool_is_an_error(cli, tmp_path):
    import pyarrow as pa

    q, s = write_toy(tmp_path)
    t = pq.read_table(q)
    t = t.set_column(3, "fold", pa.array(["test"] * 5))  # q0's gold s0 is a train sentence
    pq.write_table(t, q)
    res = cli("retrieve", "bm25", "--questions", q, "--sentences", s, "--pool", "fold",
              "-o", tmp_path / "x.parquet")  # fmt: skip
    assert res.exit_code == 1
    assert "outside the pool" in res.stderr


def test_eval_refuses_classification_predictions(cli, tmp_path):
    import pyarrow as pa

    from lsctl.artifacts import make_meta, write_artifact

    p = tmp_path / "p.parquet"
    write_artifact(pa.table({"qid": ["a"], "rank": [1]}), str(p), make_meta("predictions", ["x"]))
    res = cli("retrieve", "eval", p)
    assert res.exit_code == 1 and "not ranked" in res.stderr
