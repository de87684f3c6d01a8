"""``lsctl.add_noise``, ``lsctl.undersample`` and ``lsctl.split`` on arrays: the CLI's rows, hand counts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import lsctl
from lsctl.artifacts import read_artifact

GOLD = np.array(["cat"] * 40 + ["dog"] * 30 + ["eel"] * 20)


def _write(tmp_path, labels) -> str:
    path = tmp_path / "d.parquet"
    n = len(labels)
    pq.write_table(
        pa.table({"id": np.arange(n), "text": [f"t{i}" for i in range(n)], "label": labels}), path
    )
    return str(path)


def test_add_noise_exact_flips_the_asked_share_of_each_class_and_equals_the_cli(cli, tmp_path):
    res = lsctl.add_noise(GOLD, kind="symmetric", rate=0.25, seed=7, exact=True)
    assert res.label_order == ["cat", "dog", "eel"]
    flipped = {c: int(((c == GOLD) & res.is_noisy).sum()) for c in res.label_order}
    assert flipped == {"cat": 10, "dog": 8, "eel": 5}  # round-half-up(0.25·n_c)
    np.testing.assert_array_equal(res.is_noisy, res.labels != GOLD)
    assert res.realized_rate == 23 / 90
    want = np.full((3, 3), 0.125) + np.eye(3) * 0.625
    np.testing.assert_allclose(res.intended, want)
    src = _write(tmp_path, GOLD.tolist())
    out = tmp_path / "n.parquet"
    r = cli("noise", src, "-o", out, "--kind", "symmetric", "-r", "0.25", "--seed", "7",
            "--exact", "-q")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    table, _ = read_artifact(str(out))
    assert table.column("label").to_pylist() == res.labels.tolist()


def test_add_noise_with_a_matrix_array_and_integer_labels():
    y = np.array([0] * 50 + [1] * 50)
    t = np.array([[0.0, 1.0], [0.0, 1.0]])  # every 0 becomes 1, every 1 stays
    res = lsctl.add_noise(y, kind="matrix", matrix=t)
    assert res.labels.dtype.kind == "i"
    assert res.labels.tolist() == [1] * 100
    assert res.is_noisy.sum() == 50 and res.realized_rate == 0.5


def test_asymmetric_pairs_name_labels():
    res = lsctl.add_noise(GOLD, kind="asymmetric", rate=0.5, pairs=[("cat", "eel")], exact=True)
    moved = res.labels[GOLD == "cat"]
    assert (moved == "eel").sum() == 20 and (moved == "cat").sum() == 20
    assert (res.labels[GOLD != "cat"] == GOLD[GOLD != "cat"]).all()


def test_undersample_keeps_the_rows_the_cli_keeps(cli, tmp_path):
    keep = lsctl.undersample(GOLD, ratio={"cat": 0.1}, cap={"eel": 3}, seed=2)
    assert np.all(np.diff(keep) > 0)
    counts = {c: int((GOLD[keep] == c).sum()) for c in ("cat", "dog", "eel")}
    assert counts == {"cat": 4, "dog": 30, "eel": 3}
    src = _write(tmp_path, GOLD.tolist())
    out = tmp_path / "s.parquet"
    r = cli("data", "sample", src, "-o", out, "--ratio", "cat=0.1", "--cap", "eel=3",
            "--seed", "2", "-q")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert read_artifact(str(out))[0].column("id").to_pylist() == keep.tolist()


def test_split_is_stratified_and_equals_the_cli(cli, tmp_path):
    parts = lsctl.split(GOLD, dev=0.1, test=0.2, seed=4)
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(len(GOLD)))
    assert {c: int((GOLD[parts["test"]] == c).sum()) for c in ("cat", "dog", "eel")} == {
        "cat": 8,
        "dog": 6,
        "eel": 4,
    }
    src = _write(tmp_path, GOLD.tolist())
    r = cli("data", "split", src, "-o", tmp_path / "sp", "--dev", "0.1", "--test", "0.2",
            "--seed", "4", "-q")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    for name, idx in parts.items():
        got = read_artifact(str(tmp_path / "sp" / f"{name}.parquet"))[0]
        assert got.column("id").to_pylist() == idx.tolist()
