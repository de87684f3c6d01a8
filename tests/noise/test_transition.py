"""Intended transition matrices and user-matrix validation (METHODS.md §3)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lsctl.errors import LsctlError
from lsctl.noise import transition as tr

LABELS3 = ["a", "b", "c"]


def test_symmetric_off_diagonal_hand_worked():
    t = tr.symmetric(3, 0.3)
    expected = np.array([[0.7, 0.15, 0.15], [0.15, 0.7, 0.15], [0.15, 0.15, 0.7]])
    np.testing.assert_allclose(t, expected)


def test_symmetric_uniform_resamples_over_all_classes():
    # Resampling a fraction r uniformly over K=4 keeps the true class with r/4.
    t = tr.symmetric(4, 0.4, "uniform")
    assert t[0, 0] == pytest.approx(0.6 + 0.1)
    assert t[0, 1] == pytest.approx(0.1)
    np.testing.assert_allclose(t.sum(axis=1), 1.0)


def test_pairflip_moves_to_next_class_mod_k():
    t = tr.pairflip(3, 0.2)
    expected = np.array([[0.8, 0.2, 0.0], [0.0, 0.8, 0.2], [0.2, 0.0, 0.8]])
    np.testing.assert_allclose(t, expected)


def test_asymmetric_pairs_and_split_sources():
    t = tr.asymmetric(4, 0.4, [(0, 1), (2, 3), (2, 0)])
    expected = np.eye(4)
    expected[0] = [0.6, 0.4, 0, 0]
    expected[2] = [0.2, 0, 0.6, 0.2]
    np.testing.assert_allclose(t, expected)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("nan")])
def test_rate_outside_unit_interval(rate):
    with pytest.raises(LsctlError, match=r"outside \[0, 1\)"):
        tr.symmetric(3, rate)


def test_validate_rows_and_columns_are_transposes():
    rng = np.random.default_rng(0)
    m = rng.dirichlet(np.ones(3), size=3)
    np.testing.assert_allclose(tr.validate(m, LABELS3, "rows"), m)
    np.testing.assert_allclose(tr.validate(m.T, LABELS3, "columns"), m)


def test_validate_tolerates_1e_7_but_not_1e_5():
    m = np.eye(3)
    m[1, 1] += 1e-7
    np.testing.assert_allclose(tr.validate(m, LABELS3).sum(axis=1), 1.0)
    m[1, 1] += 1e-5
    with pytest.raises(LsctlError, match=r"row 1 \(b\) sums to 1\.0000101"):
        tr.validate(m, LABELS3)


def test_validate_errors():
    with pytest.raises(LsctlError, match=r"2×2, expected 3×3"):
        tr.validate(np.eye(2), LABELS3)
    bad = np.array([[1.2, -0.2, 0], [0, 1, 0], [0, 0, 1]])
    with pytest.raises(LsctlError, match=r"\[0\]\[1\] is negative"):
        tr.validate(bad, LABELS3)
    # Rows sum to 1, columns do not: the columns reading must name the column.
    rows = np.array([[0.5, 0.5, 0], [0, 1, 0], [0, 0, 1]])
    with pytest.raises(LsctlError, match=r"column 0 \(a\) sums to 0\.5.*--stochastic rows"):
        tr.validate(rows, LABELS3, "columns")


def test_load_matrix_csv_header_reorders_to_dataset_labels(tmp_path):
    p = tmp_path / "t.csv"
    # File order c, a, b; dataset order a, b, c.
    p.write_text("c,a,b\n0.9,0.1,0\n0,1,0\n0.2,0,0.8\n")
    m = tr.load_matrix(str(p), LABELS3)
    # T[a][a] = 1, T[b][c] = 0.2, T[c][a] = 0.1
    expected = np.array([[1, 0, 0], [0, 0.8, 0.2], [0.1, 0, 0.9]])
    np.testing.assert_allclose(m, expected)


def test_load_matrix_json_forms(tmp_path):
    m = [[0.8, 0.2], [0.3, 0.7]]
    p1 = tmp_path / "a.json"
    p1.write_text(json.dumps(m))
    p2 = tmp_path / "b.json"
    p2.write_text(json.dumps({"labels": ["y", "x"], "matrix": m}))
    np.testing.assert_allclose(tr.load_matrix(str(p1), ["x", "y"]), m)
    np.testing.assert_allclose(tr.load_matrix(str(p2), ["x", "y"]), [[0.7, 0.3], [0.2, 0.8]])


def test_load_matrix_unknown_labels(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b,z\n1,0,0\n0,1,0\n0,0,1\n")
    with pytest.raises(LsctlError, match="not the dataset's labels"):
        tr.load_matrix(str(p), LABELS3)


def test_noise_rate_is_prior_weighted_off_diagonal_mass():
    t = tr.asymmetric(2, 0.5, [(0, 1)])
    # Only class 0 (30 of 100) flips, at 0.5.
    assert tr.noise_rate(t, np.array([30, 70])) == pytest.approx(0.15)
