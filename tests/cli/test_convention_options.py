"""`softlabel --convention` and `noise --convention`: each convention's numbers, by hand."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

LABELS = ["a", "b", "c", "d"]


@pytest.fixture
def data(tmp_path):
    gold = [LABELS[i % 4] for i in range(40)]
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": [f"text {i}" for i in range(40)], "label": gold}), path)
    return path


@pytest.mark.parametrize(
    ("convention", "gold_mass", "other_mass"),
    [
        ("k", 1 - 0.2 + 0.2 / 4, 0.2 / 4),  # torch's label_smoothing
        ("k-1", 1 - 0.2, 0.2 / 3),  # fairseq
        ("per-class", 1 - 3 * 0.2, 0.2),  # ε is each other class's mass
    ],
)
def test_softlabel_uniform_conventions(cli, data, tmp_path, convention, gold_mass, other_mass):
    out = tmp_path / "s.parquet"
    args = ["--method", "uniform", "--epsilon", "0.2", "--convention", convention]
    r = cli("softlabel", data, *args, "-o", out, "-q")
    assert r.exit_code == 0, r.stderr
    t = pq.read_table(out)
    soft = np.array(t.column("soft_label").to_pylist())
    gold = [LABELS.index(g) for g in t.column("label").to_pylist()]
    for row, g in zip(soft, gold, strict=True):
        want = [gold_mass if j == g else other_mass for j in range(4)]
        np.testing.assert_allclose(row, want, atol=1e-7)


@pytest.mark.parametrize(
    ("convention", "keep", "move"),
    [("off-diagonal", 1 - 0.4, 0.4 / 3), ("uniform", 1 - 0.4 + 0.4 / 4, 0.4 / 4)],
)
def test_noise_symmetric_conventions(cli, data, tmp_path, convention, keep, move):
    out = tmp_path / "n.parquet"
    args = ["--kind", "symmetric", "--rate", "0.4", "--convention", convention, "--seed", "2"]
    r = cli("noise", data, "-o", out, *args, "-q")
    assert r.exit_code == 0, r.stderr
    meta = json.loads(pq.read_schema(out).metadata[b"lsctl"])
    want = [[keep if i == j else move for j in range(4)] for i in range(4)]
    np.testing.assert_allclose(meta["noise"]["intended_T"], want, atol=1e-12)
