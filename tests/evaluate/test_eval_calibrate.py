"""`lsctl eval --calibrate DEV`: temperature scaling end to end on a tiny trained run."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
from evalkit import three_class_dataset
from typer.testing import CliRunner

from lsctl.cli.app import app


def _run(*args):
    r = CliRunner().invoke(app, [str(a) for a in args])
    return r


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("calib")
    train = three_class_dataset(d / "train.parquet", 90, 0)
    dev = three_class_dataset(d / "dev.parquet", 60, 1)
    test = three_class_dataset(d / "test.parquet", 90, 2)
    run = d / "run"
    r = _run(
        "train", train, "-o", run, "--dev", dev, "--epochs", "3", "--embed-dim", "8",
        "--max-length", "8", "--lr", "0.01", "--threads", "1", "--device", "cpu", "-q",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    plain = d / "plain.parquet"
    r = _run("eval", run, test, "-o", plain, "--name", "cnn", "-q")
    assert r.exit_code == 0, r.stderr
    devp = d / "devpreds.parquet"
    r = _run("eval", run, dev, "-o", devp, "-q")
    assert r.exit_code == 0, r.stderr
    cal = d / "cal.parquet"
    r = _run("eval", run, test, "--calibrate", dev, "-o", cal, "--name", "cnn", "--json")
    assert r.exit_code == 0, r.stderr
    return {
        "d": d, "run": run, "dev": dev, "test": test, "plain": plain, "devp": devp,
        "cal": cal, "json": json.loads(r.stdout),
    }  # fmt: skip


def _read(path):
    t = pq.read_table(path)
    meta = json.loads(t.schema.metadata[b"lsctl"])
    labels = meta["labels"]
    logits = np.array(t.column("logits").to_pylist(), dtype=np.float64)
    probs = np.array(t.column("probs").to_pylist(), dtype=np.float64)
    y = np.array([labels.index(g) for g in t.column("label").to_pylist()])
    return meta, logits, probs, y


def _nll(z, y, t):
    s = z / t
    s = s - s.max(1, keepdims=True)
    return float(np.mean(np.log(np.exp(s).sum(1)) - s[np.arange(len(y)), y]))


def test_temperature_minimises_the_dev_nll_of_the_runs_dev_logits(setup):
    _, dz, _, dy = _read(setup["devp"])
    t = setup["json"]["calibrated"]["temperature"]
    # A local minimum on a fine log grid around T, from the logits eval wrote for DEV
    # (float32 on disk, hence the small slack).
    assert _nll(dz, dy, t) <= min(_nll(dz, dy, t * 1.01), _nll(dz, dy, t / 1.01)) + 1e-6
    grid = np.exp(np.linspace(np.log(0.05), np.log(50), 400))
    assert _nll(dz, dy, t) <= min(_nll(dz, dy, g) for g in grid) + 1e-6
    cal = setup["json"]["calibrated"]
    assert cal["dev_nll_after"] <= cal["dev_nll_before"]
    assert cal["dev_nll_before"] == pytest.approx(_nll(dz, dy, 1.0), abs=1e-5)


def test_calibrated_file_is_the_scaled_softmax_with_t_and_dev_hash(setup):
    _, z, p0, y = _read(setup["plain"])
    meta, zc, pc, yc = _read(setup["cal"])
    t = setup["json"]["calibrated"]["temperature"]
    assert meta["calibration"]["temperature"] == t
    dev_sha = hashlib.sha256(setup["dev"].read_bytes()).hexdigest()
    assert meta["calibration"]["dev"]["sha256"] == dev_sha
    assert meta["name"] == "cnn"  # --name given: used as is
    assert (yc == y).all()
    want = np.exp(z / t - (z / t).max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    assert np.allclose(pc, want, atol=1e-6)
    assert np.allclose(zc, z / t, atol=1e-5)
    assert (pc.argmax(1) == p0.argmax(1)).all()


def test_json_reports_every_metric_before_and_after(setup):
    s = setup["json"]
    _, _, pc, y = _read(setup["cal"])
    from lsctl.evaluate import metrics

    for key in ("accuracy", "macro_f1", "nll", "brier", "ece", "ece_adaptive", "ece_classwise"):
        assert key in s and key in s["calibrated"]
    assert s["calibrated"]["accuracy"] == s["accuracy"]
    # Recomputed from the written (float32) probs.
    assert s["calibrated"]["ece"] == pytest.approx(metrics.ece(pc, y, 15), abs=1e-5)
    assert s["calibrated"]["nll"] == pytest.approx(metrics.nll(pc, y), rel=1e-4)
    assert s["ece"] != pytest.approx(s["calibrated"]["ece"], abs=1e-9)


def test_eval_predictions_of_dev_give_the_same_temperature(setup):
    r = _run("eval", setup["run"], setup["test"], "--calibrate", setup["devp"], "--json")
    assert r.exit_code == 0, r.stderr
    got = json.loads(r.stdout)["calibrated"]
    assert got["dev_source"] == "predictions"
    assert got["temperature"] == pytest.approx(setup["json"]["calibrated"]["temperature"], rel=1e-4)


def test_default_name_marks_the_calibrated_system_and_compare_takes_it(setup, tmp_path):
    out = tmp_path / "ts.parquet"
    r = _run("eval", setup["run"], setup["test"], "--calibrate", setup["dev"], "-o", out, "-q")
    assert r.exit_code == 0, r.stderr
    meta = json.loads(pq.read_table(out).schema.metadata[b"lsctl"])
    assert meta["name"] == "run-ts"
    r = _run(
        "compare", setup["plain"], out, "--baseline", "cnn", "--metric", "nll",
        "--rounds", "200", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    assert [(row["system"], row["baseline"]) for row in rows] == [("run-ts", "cnn")]
    _, _, pc, y = _read(out)
    assert rows[0]["mean"] == pytest.approx(
        float(np.mean(-np.log(np.maximum(pc[np.arange(len(y)), y], 1e-15)))), rel=1e-5
    )


@pytest.mark.parametrize("which", ["same", "copy", "predictions"])
def test_calibrating_on_the_test_data_is_refused(setup, tmp_path, which):
    if which == "same":
        dev = setup["test"]
    elif which == "copy":
        dev = tmp_path / "renamed.parquet"
        shutil.copy(setup["test"], dev)
    else:
        dev = setup["plain"]  # eval's predictions on the test data
    out = tmp_path / "x.parquet"
    r = _run("eval", setup["run"], setup["test"], "--calibrate", dev, "-o", out)
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and "same content" in lines[0]
    assert not out.exists()


def test_table_shows_before_and_after(setup):
    r = _run("eval", setup["run"], setup["test"], "--calibrate", setup["dev"], "--bins", "7")
    assert r.exit_code == 0, r.stderr
    err = " ".join(r.stderr.split())
    assert "before" in err and "after (T=" in err
    assert "adaptive ECE (7 equal-mass bins)" in err or "adaptive ECE (7 equal-mass" in err


def test_dev_predictions_of_another_run_are_refused(setup, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(setup["run"], other)
    r = _run("eval", other, setup["test"], "--calibrate", setup["devp"])
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "were made by the run" in lines[0]


def test_dev_and_data_both_on_stdin_is_a_usage_error(setup):
    r = CliRunner().invoke(app, ["eval", str(setup["run"]), "-", "--calibrate", "-"], input=b"")
    assert r.exit_code == 2 and "--calibrate -" in r.stderr


def test_output_never_overwrites_dev(setup, tmp_path):
    dev = tmp_path / "dev.parquet"
    shutil.copy(setup["dev"], dev)
    before = dev.read_bytes()
    r = _run("eval", setup["run"], setup["test"], "--calibrate", dev, "-o", dev)
    assert r.exit_code != 0 and r.stderr.startswith("Error:")
    assert dev.read_bytes() == before


@pytest.mark.parametrize("which", ["reimported", "slice"])
def test_calibrating_on_test_rows_reached_another_way_is_refused(setup, tmp_path, which):
    # Other bytes (another created_at, fewer rows), the same texts: still the test set.
    table = pq.read_table(setup["test"])
    dev = tmp_path / "dev.parquet"
    rows = table if which == "reimported" else table.slice(0, max(1, table.num_rows // 3))
    pq.write_table(rows.replace_schema_metadata({"other": "bytes"}), dev)
    out = tmp_path / "x.parquet"
    r = _run("eval", setup["run"], setup["test"], "--calibrate", dev, "-o", out)
    assert r.exit_code == 1, r.stderr
    assert "every DEV text is also in the test data" in r.stderr
    assert not out.exists()


def test_already_calibrated_dev_predictions_are_refused(setup, tmp_path):
    # Their logits are divided by T already: a second fit would give T'/T and
    # apply it to this run's raw logits (the printed dev NLL would still drop).
    devcal = tmp_path / "devcal.parquet"
    other_dev = three_class_dataset(tmp_path / "dev2.parquet", 60, 3)
    r = _run("eval", setup["run"], setup["dev"], "--calibrate", other_dev, "-o", devcal, "-q")
    assert r.exit_code == 0, r.stderr
    out = tmp_path / "x.parquet"
    r = _run("eval", setup["run"], setup["test"], "--calibrate", devcal, "-o", out)
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "already temperature-scaled" in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("which", ["train", "train predictions"])
def test_calibrating_on_the_runs_training_data_is_refused(setup, tmp_path, which):
    train = setup["d"] / "train.parquet"
    dev = train
    if which == "train predictions":
        dev = tmp_path / "trainpreds.parquet"
        assert _run("eval", setup["run"], train, "-o", dev, "-q").exit_code == 0
    out = tmp_path / "x.parquet"
    r = _run("eval", setup["run"], setup["test"], "--calibrate", dev, "-o", out)
    assert r.exit_code == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "the data this run was trained on" in lines[0]
    assert not out.exists()
