"""`lsctl eval` on a tiny TextCNN run trained here, then `lsctl compare` on its output."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import accuracy_score, f1_score, log_loss

from lsctl.artifacts import file_sha256, read_artifact

WORDS = {
    "food": ["pasta", "salad", "bread", "soup"],
    "sport": ["goal", "match", "team", "score"],
    "tech": ["chip", "code", "robot", "data"],
}


def _dataset(path, n, seed, labels=tuple(WORDS)):
    rng = np.random.default_rng(seed)
    every = [w for ws in WORDS.values() for w in ws]
    texts, gold = [], []
    for i in range(n):
        lab = labels[i % len(labels)]
        words = [*rng.choice(WORDS.get(lab, every), 3), *rng.choice(every, 2)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        gold.append(lab)
    pq.write_table(pa.table({"text": texts, "label": gold}), path)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Two tiny CE runs (seeds 1, 2) and a held-out test set."""
    from typer.testing import CliRunner

    from lsctl.cli.app import app

    d = tmp_path_factory.mktemp("eval")
    train = _dataset(d / "train.parquet", 240, 0)
    test = _dataset(d / "test.parquet", 90, 1)
    runs = []
    for seed in (1, 2):
        out = d / f"cnn-s{seed}"
        args = ["train", str(train), "-o", str(out), "--epochs", "2", "--embed-dim", "16"]
        args += ["--max-length", "16", "--seed", str(seed), "--device", "cpu", "-q"]
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, r.stderr
        runs.append(out)
    return {"dir": d, "train": train, "test": test, "runs": runs}


@pytest.mark.slow
def test_eval_writes_predictions_and_metrics(cli, run):
    out, png = run["dir"] / "p1.parquet", run["dir"] / "rel.png"
    r = cli("eval", run["runs"][0], run["test"], "-o", out, "--plot", png, "--json")
    assert r.exit_code == 0, r.stderr
    assert f"wrote {out}, {png}" in r.stderr  # every file written is reported
    summary = json.loads(r.stdout)

    table, reader = read_artifact(str(out))
    assert table.column_names == ["id", "label", "pred", "probs", "logits"]
    labels = reader.meta["labels"]
    k = len(labels)
    assert table.schema.field("probs").type == pa.list_(pa.float32(), k)
    assert table.schema.field("logits").type == pa.list_(pa.float32(), k)

    import torch

    logits = np.array(table.column("logits").to_pylist())
    probs = np.array(table.column("probs").to_pylist())
    np.testing.assert_allclose(probs, torch.softmax(torch.tensor(logits), 1).numpy(), atol=1e-6)
    gold = table.column("label").to_pylist()
    pred = table.column("pred").to_pylist()
    assert pred == [labels[i] for i in probs.argmax(1)]
    assert gold == pq.read_table(run["test"]).column("label").to_pylist()
    assert table.column("id").to_pylist() == list(range(90))

    # Metrics against scikit-learn on the written file.
    y = np.array([labels.index(g) for g in gold])
    assert summary["accuracy"] == pytest.approx(accuracy_score(gold, pred))
    assert summary["macro_f1"] == pytest.approx(f1_score(gold, pred, average="macro"))
    # probs are float32 on disk: renormalise so sklearn sees a distribution.
    p64 = probs / probs.sum(axis=1, keepdims=True)
    assert summary["nll"] == pytest.approx(log_loss(y, p64, labels=range(k)), rel=1e-5)
    assert summary["n"] == 90 and set(summary["per_class"]) == set(labels)

    # Logits are the predictor's own (the train engineer's contract).
    from lsctl.train.predict import load_predictor

    direct = load_predictor(str(run["runs"][0]), "cpu").logits(
        pq.read_table(run["test"]).column("text").to_pylist()
    )
    np.testing.assert_allclose(logits, direct, atol=1e-5)

    meta = reader.meta
    assert meta["kind"] == "predictions"
    assert meta["name"] == "cnn" and meta["seed"] == 1  # the folder cnn-s1 without its seed marker
    assert meta["dataset_sha256"] == file_sha256(str(run["test"]))
    assert meta["run_config"] == json.loads((run["runs"][0] / "config.json").read_text())
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_eval_then_compare_groups_seeds_by_name(cli, run):
    files = []
    for i, rd in enumerate(run["runs"]):
        for name in ("cnn", "other"):
            f = run["dir"] / f"{name}-{i}.parquet"
            r = cli("eval", rd, run["test"], "-o", f, "--name", name, "-q")
            assert r.exit_code == 0, r.stderr
            files.append(f)
    r = cli("compare", *files, "--baseline", "cnn", "-o", run["dir"] / "c.parquet", "--json")
    assert r.exit_code == 0, r.stderr
    (row,) = json.loads(r.stdout)["rows"]
    # The same two runs under two names: every seed pair is identical.
    assert row["delta"] == 0 and row["ci_low"] == row["ci_high"] == 0
    assert row["p_bootstrap"] == 1.0 and row["verdict"] == "no difference"
    assert row["p_mcnemar"] == 1.0


def test_default_names_drop_the_seed_so_compare_pairs_seeds(cli, run):
    files = []
    for i, rd in enumerate(run["runs"]):  # cnn-s1, cnn-s2: the system "cnn", seeds 1 and 2
        for name in (None, "other"):
            f = run["dir"] / f"default-{name}-{i}.parquet"
            r = cli("eval", rd, run["test"], "-o", f, "-q", *(["--name", name] if name else []))
            assert r.exit_code == 0, r.stderr
            files.append(f)
    r = cli("compare", *files, "--baseline", "cnn", "--rounds", "200")
    assert r.exit_code == 0, r.stderr
    assert "cnn×2" in r.stdout + r.stderr and "other×2" in r.stdout + r.stderr


def test_swapped_arguments_are_named(cli, run):
    r = cli("eval", run["test"], run["runs"][0])
    assert r.exit_code == 1 and "the run comes first, then the data" in r.stderr, r.stderr


@pytest.mark.slow
def test_eval_bad_inputs(cli, run):
    d = run["dir"]
    bad = _dataset(d / "bad.parquet", 12, 3, labels=("food", "music"))
    r = cli("eval", run["runs"][0], bad, "-o", d / "x.parquet")
    assert r.exit_code == 1
    assert "'music' is not one of the run's labels" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (d / "x.parquet").exists()

    r = cli("eval", d / "no-such-run", run["test"], "-o", d / "x.parquet")
    assert r.exit_code == 1 and "no such run directory" in r.stderr

    r = cli("eval", run["runs"][0], run["test"], "-o", d / "x.parquet", "--bins", "0")
    assert r.exit_code == 2

    r = cli("eval", run["runs"][0], run["test"], "-o", "-", "--json")
    assert r.exit_code == 2

    # An empty --name is a mistake, not "no name" (nor a system called '').
    r = cli("eval", run["runs"][0], run["test"], "-o", d / "x.parquet", "--name", "")
    assert r.exit_code == 2 and "--name is empty" in r.stderr
    assert not (d / "x.parquet").exists()

    # A subset of the run's labels is fine.
    sub = _dataset(d / "sub.parquet", 10, 4, labels=("food", "tech"))
    r = cli("eval", run["runs"][0], sub, "-o", d / "sub-p.parquet", "-q")
    assert r.exit_code == 0, r.stderr


@pytest.mark.slow
def test_eval_without_output_prints_the_metrics(cli, run, tmp_path):
    """Issue 13, item 4: printing the metrics does not need an output file."""
    before = sorted(p.name for p in run["dir"].iterdir())
    r = cli("eval", run["runs"][0], run["test"], "--json")
    assert r.exit_code == 0, r.stderr
    printed = json.loads(r.stdout)
    assert printed["output"] is None
    assert sorted(p.name for p in run["dir"].iterdir()) == before

    out = tmp_path / "deep" / "er" / "p.parquet"  # missing folders are made
    r = cli("eval", run["runs"][0], run["test"], "-o", out, "--json")
    assert r.exit_code == 0, r.stderr
    written = json.loads(r.stdout)
    table, _ = read_artifact(str(out))
    acc = accuracy_score(table.column("label").to_pylist(), table.column("pred").to_pylist())
    assert printed["accuracy"] == pytest.approx(acc)
    assert {k: v for k, v in printed.items() if k != "output"} == {
        k: v for k, v in written.items() if k != "output"
    }

    r = cli("eval", run["runs"][0], run["test"])
    assert r.exit_code == 0, r.stderr
    assert "accuracy" in r.stderr and "wrote" not in r.stderr and r.stdout == ""


def test_unlabelled_data_is_predicted_without_metrics(cli, run, tmp_path):
    test = pq.read_table(run["test"])
    unlabelled = tmp_path / "unl.parquet"
    pq.write_table(test.drop(["label"]), unlabelled)
    labelled_out, out = tmp_path / "lab.parquet", tmp_path / "unl-p.parquet"
    assert cli("eval", run["runs"][0], run["test"], "-o", labelled_out, "-q").exit_code == 0
    r = cli("eval", run["runs"][0], unlabelled, "-o", out, "--json")
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    got, want = pq.read_table(out), pq.read_table(labelled_out)
    assert got.column_names == ["id", "pred", "probs", "logits"]
    # The same rows with and without labels: the same predictions.
    for col in ("id", "pred", "probs", "logits"):
        assert got.column(col).to_pylist() == want.column(col).to_pylist()
    preds = got.column("pred").to_pylist()
    assert summary["labelled"] is False and summary["n"] == test.num_rows
    assert summary["predicted"] == {lab: preds.count(lab) for lab in summary["predicted"]}
    assert "accuracy" not in summary
    # What needs labels says so, before anything is written.
    for extra in (["--plot", tmp_path / "r.png"], ["--calibrate", run["test"]]):
        r = cli("eval", run["runs"][0], unlabelled, "-o", tmp_path / "x.parquet", *extra)
        assert r.exit_code == 2 and "no label column" in r.stderr, r.stderr
        assert not (tmp_path / "x.parquet").exists()
    r = cli("compare", out, labelled_out)
    assert r.exit_code == 1 and "predictions of data without labels" in r.stderr
