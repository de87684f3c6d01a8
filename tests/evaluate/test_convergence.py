"""Convergence (epochs and steps to 95%/99% of the best dev accuracy), from metrics.parquet."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lsctl.evaluate.convergence import epochs_to_fraction

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))


def test_first_epoch_reaching_each_fraction_by_hand():
    acc = [0.40, 0.85, 0.90, 0.95, 1.00, 0.97]
    out = epochs_to_fraction(acc, [7, 14, 21, 28, 35, 42])
    # 0.95 x 1.00 = 0.95: epoch 4 is the first at or above; 0.99: only epoch 5.
    assert (out["epochs_to_95"], out["steps_to_95"]) == (4, 28)
    assert (out["epochs_to_99"], out["steps_to_99"]) == (5, 35)
    assert out["best_dev_accuracy"] == 1.0 and out["epochs"] == 6
    # f = 1 finds the best epoch; without steps the step counts are unknown.
    out = epochs_to_fraction([0.1 + 0.2, 0.3], None, (1.0,))
    assert out["epochs_to_100"] == 1 and out["steps_to_100"] is None
    with pytest.raises(ValueError):
        epochs_to_fraction([], None)
    with pytest.raises(ValueError):
        epochs_to_fraction([0.5], None, (1.5,))


def test_eval_reports_convergence_of_the_run_and_stamps_it(cli, tmp_path):
    from trainkit import write_dataset

    from lsctl.artifacts import read_artifact

    train = write_dataset(tmp_path / "train.parquet", n=90)
    dev = write_dataset(tmp_path / "dev.parquet", n=30, seed=4)
    test = write_dataset(tmp_path / "test.parquet", n=30, seed=5)
    r = cli("train", train, "--dev", dev, "-o", tmp_path / "run", "--epochs", "4",
            "--batch-size", "16", "--embed-dim", "8", "--max-length", "16", "-q")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    m = pq.read_table(tmp_path / "run" / "metrics.parquet").to_pylist()
    # 90 rows, batch 16: 6 steps per epoch, cumulative.
    assert [row["steps"] for row in m] == [6 * e for e in (1, 2, 3, 4)]
    best = max(row["dev_accuracy"] for row in m)
    first95 = min(row["epoch"] for row in m if row["dev_accuracy"] >= 0.95 * best)
    first99 = min(row["epoch"] for row in m if row["dev_accuracy"] >= 0.99 * best)

    r = cli("eval", tmp_path / "run", test, "-o", tmp_path / "p.parquet", "--json")
    assert r.exit_code == 0, r.stderr
    conv = json.loads(r.stdout)["convergence"]
    assert conv["best_dev_accuracy"] == best and conv["epochs"] == 4
    assert (conv["epochs_to_95"], conv["steps_to_95"]) == (first95, 6 * first95)
    assert (conv["epochs_to_99"], conv["steps_to_99"]) == (first99, 6 * first99)
    _, reader = read_artifact(str(tmp_path / "p.parquet"))
    assert reader.meta["convergence"] == conv
    assert not math.isnan(reader.meta["metrics"]["accuracy"])
    # The table view says it in one line.
    r = cli("eval", tmp_path / "run", test)
    assert r.exit_code == 0 and f"at epoch {first95} ({6 * first95} steps)" in r.stderr + r.stdout
