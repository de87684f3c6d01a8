"""`lsctl data split`: stratified, reproducible, disjoint and covering; its errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lsctl.artifacts import make_meta, read_artifact, write_artifact
from lsctl.data.split import allocate, stratified_split
from lsctl.errors import LsctlError


def _err(r, code: int, *needles: str) -> None:
    assert r.exit_code == code, (r.exit_code, r.stderr)
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


SIZES = {"a": 503, "b": 91, "c": 7, "d": 2}


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.array([lab for lab, n in SIZES.items() for _ in range(n)])
    rng.shuffle(labels)
    n = labels.size
    t = pa.table(
        {
            "id": pa.array(np.arange(1000, 1000 + n), pa.int64()),
            "text": [f"text {i}" for i in range(n)],
            "label": labels.tolist(),
        }
    )
    path = tmp_path / "d.parquet"
    write_artifact(t, str(path), make_meta("dataset", sorted(SIZES)))
    return path


def test_allocate_hand_worked():
    f = np.array([0.8, 0.1, 0.1])
    assert allocate(10, f).tolist() == [8, 1, 1]
    assert allocate(7, f).tolist() == [5, 1, 1]  # 5.6/0.7/0.7: the two .7 remainders win
    assert allocate(2, f).tolist() == [2, 0, 0]
    assert allocate(2, np.array([0.1, 0.5, 0.4])).tolist() == [1, 1, 0]  # train keeps one
    assert allocate(0, f).tolist() == [0, 0, 0]


def test_split_is_stratified_disjoint_and_covering(data, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    out = tmp_path / "sp"
    r = cli("data", "split", data, "-o", out, "--dev", "0.1", "--test", "0.15", "--seed", "7")
    assert r.exit_code == 0, r.stderr
    full = pq.read_table(data)
    parts = {s: pq.read_table(out / f"{s}.parquet") for s in ("train", "dev", "test")}
    ids = {s: t.column("id").to_pylist() for s, t in parts.items()}
    all_ids = sorted(ids["train"] + ids["dev"] + ids["test"])
    assert all_ids == sorted(full.column("id").to_pylist())  # covering, no repeats
    for s, share in (("train", 0.75), ("dev", 0.1), ("test", 0.15)):
        got = dict(
            zip(
                *np.unique(
                    parts[s].column("label").to_numpy(zero_copy_only=False), return_counts=True
                ),
                strict=True,
            )
        )
        for lab, n in SIZES.items():
            assert abs(got.get(lab, 0) - n * share) < 1, (s, lab, got.get(lab, 0), n * share)
        # Rows keep the input's order.
        assert ids[s] == sorted(ids[s], key=full.column("id").to_pylist().index)
        meta = json.loads(pq.read_schema(out / f"{s}.parquet").metadata[b"lsctl"])
        assert meta["params"]["split"] == s and meta["params"]["seed"] == 7
        assert meta["labels"] == sorted(SIZES)
    # Every class, even the 2-row one, keeps a training row.
    assert set(parts["train"].column("label").to_pylist()) == set(SIZES)


def test_split_reproducible_bytes_and_seed_matters(data, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        r = cli("data", "split", data, "-o", tmp_path / name, "--seed", seed)
        assert r.exit_code == 0, r.stderr
    for s in ("train", "dev", "test"):
        a = (tmp_path / "a" / f"{s}.parquet").read_bytes()
        assert a == (tmp_path / "b" / f"{s}.parquet").read_bytes()
    ta = pq.read_table(tmp_path / "a" / "test.parquet").column("id").to_pylist()
    tc = pq.read_table(tmp_path / "c" / "test.parquet").column("id").to_pylist()
    assert ta != tc


def test_zero_fraction_split_not_written_and_arrows(data, tmp_path, cli):
    out = tmp_path / "sp"
    r = cli("data", "split", data, "-o", out, "--dev", "0", "--test", "0.2", "--format", "arrows")
    assert r.exit_code == 0, r.stderr
    assert sorted(os.listdir(out)) == ["test.arrows", "train.arrows"]
    t, reader = read_artifact(str(out / "test.arrows"))
    assert reader.format == "arrow-stream" and t.num_rows > 0


def test_split_json_summary(data, tmp_path, cli):
    r = cli("data", "split", data, "-o", tmp_path / "sp", "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert sum(out["rows"].values()) == sum(SIZES.values())


def test_single_class_split_is_an_error(tmp_path, cli):
    path = tmp_path / "one.parquet"
    write_artifact(
        pa.table({"text": ["a", "b", "c"], "label": ["x"] * 3}),
        str(path),
        make_meta("dataset", ["x"]),
    )
    _err(
        cli("data", "split", path, "-o", tmp_path / "sp"),
        1,
        "only one class present",
        "at least 2 classes",
    )
    assert not (tmp_path / "sp").exists()
    # Without a held-out split there is nothing to stratify: it just copies.
    r = cli("data", "split", path, "-o", tmp_path / "sp", "--dev", "0", "--test", "0")
    assert r.exit_code == 0 and os.listdir(tmp_path / "sp") == ["train.parquet"]


def test_class_with_one_row_is_an_error():
    with pytest.raises(LsctlError, match="class 'b' has only 1 row"):
        stratified_split(np.array([0, 0, 1, 0]), ["a", "b"], 0.1, 0.1, 0)


@pytest.mark.parametrize(
    "dev,test,needle",
    [
        ("1.5", "0.1", "--dev 1.5 is outside [0, 1)"),
        ("0.1", "-0.2", "--test -0.2"),
        ("0.5", "0.5", "nothing for training"),
    ],
)
def test_bad_fractions(data, tmp_path, cli, dev, test, needle):
    # Out-of-range options are usage errors (exit 2), as for every other command.
    _err(cli("data", "split", data, "-o", tmp_path / "sp", "--dev", dev, "--test", test), 2, needle)


def test_output_is_a_file(data, tmp_path, cli):
    f = tmp_path / "file"
    f.write_text("x")
    _err(cli("data", "split", data, "-o", f), 1, "not a directory")


@pytest.mark.parametrize("command", ["split", "folds"])
def test_output_named_like_a_file_is_refused_before_a_folder_is_made(data, tmp_path, cli, command):
    out = tmp_path / "s4.parquet"
    _err(cli("data", command, data, "-o", out), 2, "writes its files into a directory")
    assert not out.exists()
