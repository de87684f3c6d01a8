"""`lsctl rank` end to end: 3 datasets × 3 systems × 2 seeds of tiny prediction files."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, log_loss

from lsctl.artifacts import make_meta, write_artifact
from lsctl.evaluate.run import predictions_table

DATASETS = {"trec": ["abbr", "desc", "loc"], "sst": ["neg", "pos"], "imdb": ["neg", "pos"]}
# Planted accuracies: good > base > weak on every dataset, with a spread.
ACC = {"base": 0.7, "good": 0.8, "weak": 0.6}


def _write(path, labels, y, acc, rng, meta_kw):
    z = rng.normal(size=(len(y), len(labels)))
    ok = rng.random(len(y)) < acc
    z[np.arange(len(y)), np.where(ok, y, (y + 1) % len(labels))] += 3.0
    table, _ = predictions_table(np.arange(len(y)), labels, y, z)
    write_artifact(table, str(path), make_meta("predictions", labels, {}, **meta_kw))


def _meta(ds, name, seed):
    sha = hashlib.sha256(ds.encode()).hexdigest()  # one hash per dataset
    return {
        "inputs": [{"path": f"/data/{ds}/test.parquet", "sha256": sha}],
        "name": name,
        "seed": seed,
        "dataset_sha256": sha,
    }


@pytest.fixture
def grid(tmp_path):
    rng = np.random.default_rng(5)
    files = {}
    for d, (ds, labels) in enumerate(DATASETS.items()):
        n = 300 + 50 * d
        y = rng.integers(0, len(labels), n)
        for name, acc in ACC.items():
            for seed in (1, 2):
                p = tmp_path / f"{ds}-{name}-s{seed}.parquet"
                _write(p, labels, y, acc + 0.03 * d, rng, _meta(ds, name, seed))
                files[(ds, name, seed)] = p
    return files


def _acc(path):
    t = pq.read_table(path)
    return accuracy_score(t.column("label").to_pylist(), t.column("pred").to_pylist())


def _nll(path, labels):
    t = pq.read_table(path)
    probs = np.array(t.column("probs").to_pylist(), dtype=np.float64)
    probs /= probs.sum(axis=1, keepdims=True)  # float32 storage: sklearn wants sums of 1
    return log_loss(t.column("label").to_pylist(), probs, labels=labels)


def test_rank_reports_scores_ranks_friedman_and_nemenyi(cli, grid, tmp_path):
    png = tmp_path / "cd.png"
    r = cli("rank", *grid.values(), "--json", "--plot", png)
    assert r.exit_code == 0, r.stderr
    assert f"wrote {png}" in r.stderr
    doc = json.loads(r.stdout)
    assert doc["systems"] == ["base", "good", "weak"]
    assert doc["datasets"] == ["trec/test", "sst/test", "imdb/test"]
    # Scores: each system's mean accuracy over its two seeds, recomputed by sklearn.
    want = np.array(
        [
            [np.mean([_acc(grid[(ds, s, k)]) for k in (1, 2)]) for s in doc["systems"]]
            for ds in DATASETS
        ]
    )
    assert np.allclose(doc["scores"], want, atol=1e-12)
    assert doc["seeds"] == [[2, 2, 2]] * 3
    ranks = np.vstack([stats.rankdata(-row) for row in want])
    assert np.allclose(doc["average_ranks"], ranks.mean(axis=0))
    ref = stats.friedmanchisquare(*want.T)
    assert doc["friedman"]["chi2"] == pytest.approx(ref.statistic)
    assert doc["friedman"]["p_chi2"] == pytest.approx(ref.pvalue)
    k, n = 3, 3
    assert doc["cd"] == pytest.approx(2.343 * math.sqrt(k * (k + 1) / (6 * n)))
    # All pairs by default, with p from scipy's Wilcoxon over the 3 datasets.
    pairs = {(w["system"], w["vs"]): w for w in doc["wilcoxon"]}
    assert set(pairs) == {("good", "base"), ("weak", "base"), ("weak", "good")}
    p = stats.wilcoxon(want[:, 1], want[:, 0]).pvalue
    assert pairs[("good", "base")]["p"] == pytest.approx(p)
    assert pairs[("good", "base")]["wins"] == 3

    # The CD diagram is a PNG of the size the layout asks for.
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from lsctl.evaluate.cd_diagram import DPI, figure_size

    img = plt.imread(str(png))
    w_in, h_in = figure_size(3, len(doc["groups"]))
    assert img.shape[:2] == (round(h_in * DPI), round(w_in * DPI))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (img[:, :, :3] < 0.5).any()  # something is drawn


def test_rank_table_control_alpha_and_lower_is_better(cli, grid, tmp_path):
    r = cli("rank", *grid.values(), "--control", "base", "--alpha", "0.10", "--metric", "nll")
    assert r.exit_code == 0, r.stderr
    assert "average rank" in r.stderr and "Iman–Davenport" in r.stderr
    r = cli(
        "rank", *grid.values(), "--control", "base", "--alpha", "0.1", "--metric", "nll", "--json"
    )
    doc = json.loads(r.stdout)
    assert doc["lower_is_better"] is True and doc["q_alpha"] == 2.052
    assert [(w["system"], w["vs"]) for w in doc["wilcoxon"]] == [("good", "base"), ("weak", "base")]
    labels = list(DATASETS.values())
    want = np.array(
        [
            [np.mean([_nll(grid[(ds, s, k)], labels[i]) for k in (1, 2)]) for s in doc["systems"]]
            for i, ds in enumerate(DATASETS)
        ]
    )
    assert np.allclose(doc["scores"], want, rtol=1e-9)
    # Lowest NLL gets rank 1.
    assert np.allclose(doc["ranks"], [stats.rankdata(row) for row in want])
    r = cli("rank", *grid.values(), "--quiet")
    assert r.exit_code == 0 and r.stdout == "" and r.stderr == ""


def _ece(path, labels, bins):
    """Equal-width ECE of one prediction file, by hand."""
    t = pq.read_table(path)
    probs = np.array(t.column("probs").to_pylist())
    y = np.array([labels.index(v) for v in t.column("label").to_pylist()])
    conf, hit = probs.max(1), probs.argmax(1) == y
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    return sum(abs(np.sum(hit[idx == b] - conf[idx == b])) for b in range(bins)) / len(y)


def test_rank_ece_bins_take_effect(cli, grid):
    def ece_scores(bins):
        r = cli("rank", *grid.values(), "--metric", "ece", "--bins", bins, "--json")
        assert r.exit_code == 0, r.stderr
        return np.array(json.loads(r.stdout)["scores"])

    two, many = ece_scores("2"), ece_scores("20")
    for bins, got in ((2, two), (20, many)):
        want = np.mean([_ece(grid[("sst", "good", k)], DATASETS["sst"], bins) for k in (1, 2)])
        assert got[1, 1] == pytest.approx(want, rel=1e-9)
    assert not np.allclose(two, many)


def test_rank_dataset_and_name_options_group_plain_files(cli, tmp_path):
    """Files from other code (no lsctl metadata): --dataset and --name group them."""
    rng = np.random.default_rng(2)
    paths = []
    for ds in ("alpha", "beta"):
        y = rng.integers(0, 2, 200)
        for sys_, acc in (("x", 0.9), ("z", 0.6)):
            p = tmp_path / f"{ds}_{sys_}.parquet"
            z = rng.normal(size=(200, 2))
            ok = rng.random(200) < acc
            z[np.arange(200), np.where(ok, y, 1 - y)] += 3.0
            table, _ = predictions_table(np.arange(200), ["n", "p"], y, z)
            pq.write_table(table, p)  # plain Parquet: no name, seed or dataset hash
            paths.append(p)
    r = cli("rank", *paths, "--json")
    assert r.exit_code == 1 and "--dataset" in r.stderr
    args = ["--dataset", "alpha_*=A", "--dataset", "beta_*=B"]
    r = cli("rank", *paths, *args, "--json")
    # Without --name each file is its own system (its file name), on one dataset only.
    assert r.exit_code == 1 and "no predictions of system" in r.stderr
    args += ["--name", "*_x.parquet=X", "--name", "*_z.parquet=Z"]
    r = cli("rank", *paths, *args, "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["datasets"] == ["A", "B"]
    assert doc["systems"] == ["X", "Z"]
    assert doc["ranks"] == [[1.0, 2.0], [1.0, 2.0]]
    assert doc["seeds"] == [[1, 1], [1, 1]]


def test_rank_errors(cli, grid, tmp_path):
    files = list(grid.values())
    one_ds = [p for (ds, _, _), p in grid.items() if ds == "trec"]
    r = cli("rank", *one_ds)
    assert r.exit_code == 1 and "at least 2 datasets" in r.stderr
    one_sys = [p for (_, s, _), p in grid.items() if s == "base"]
    r = cli("rank", *one_sys)
    assert r.exit_code == 1 and "one system" in r.stderr
    missing = [p for (ds, s, _), p in grid.items() if not (ds == "sst" and s == "weak")]
    r = cli("rank", *missing)
    assert r.exit_code == 1 and "sst/test" in r.stderr and "'weak'" in r.stderr
    # Mixed label sets within one dataset group.
    bad = tmp_path / "bad.parquet"
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    _write(bad, ["a", "b"], y, 0.7, rng, _meta("trec", "odd", 1))
    r = cli("rank", *files, bad)
    assert r.exit_code == 1 and "label list" in r.stderr and "trec/test" in r.stderr
    r = cli("rank", *files, "--alpha", "0.01")
    assert r.exit_code == 2 and "0.05 or 0.10" in r.stderr
    r = cli("rank", *files, "--control", "nobody")
    assert r.exit_code == 2 and "nobody" in r.stderr
    r = cli("rank", *files, "--plot", tmp_path / "cd.gif")
    assert r.exit_code == 2 and ".png, .pdf or .svg" in r.stderr
    for r in (cli("rank", *files, "--metric", "f2"), cli("rank", *files, "--bins", "0")):
        assert r.exit_code == 2
        assert "Traceback" not in r.stderr
    # A pattern that matches no file is a typo, and an empty name names nothing:
    # ignoring either would leave the tables as they were without a word.
    for args, needle in (
        (["--name", "nosuch-*=X"], "--name nosuch-*=X: the pattern matches none of the files"),
        (["--dataset", "*/trecc/*=T"], "--dataset */trecc/*=T: the pattern matches none"),
        (["--name", "*=  "], "the system name is empty"),
        (["--dataset", "*="], "--dataset *=: the dataset name is empty"),
    ):
        r = cli("rank", *files, *args)
        assert r.exit_code == 2 and needle in r.stderr, (args, r.stderr)


def test_rank_friedman_edge_cases(cli, grid, tmp_path):
    # The planted grid ranks good > base > weak on every dataset: χ² is at its
    # maximum N(k−1), so the Iman–Davenport F is infinite (null in JSON) and p is
    # the exact chance of three datasets agreeing on one of 3! rankings: 6·(1/6)³.
    r = cli("rank", *grid.values(), "--json")
    f = json.loads(r.stdout)["friedman"]
    assert f["chi2"] == pytest.approx(3 * (3 - 1)) and f["f"] is None
    assert f["p_f"] == pytest.approx(6 * (1 / 6) ** 3)
    # Two systems that swap places on two datasets: χ² = 0, p = 1, and the table
    # says the post-hoc tests are not warranted.
    rng = np.random.default_rng(9)
    files = []
    for ds, (acc_a, acc_b) in (("d1", (0.9, 0.6)), ("d2", (0.6, 0.9))):
        y = rng.integers(0, 2, 200)
        for name, acc in (("a", acc_a), ("b", acc_b)):
            p = tmp_path / f"{ds}-{name}.parquet"
            _write(p, ["n", "p"], y, acc, rng, _meta(ds, name, 1))
            files.append(p)
    r = cli("rank", *files, "--json")
    f = json.loads(r.stdout)["friedman"]
    assert (f["chi2"], f["p_chi2"], f["f"], f["p_f"]) == (0.0, 1.0, 0.0, 1.0)
    r = cli("rank", *files)
    assert r.exit_code == 0 and "not warranted" in r.stderr
