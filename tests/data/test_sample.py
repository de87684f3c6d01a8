"""Class imbalance (`lsctl data sample`, lsctl.noise.imbalance) against hand counts."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lsctl.artifacts import make_meta, write_artifact
from lsctl.errors import LsctlError
from lsctl.noise.imbalance import undersample


def _err(r, code: int, *needles: str) -> None:
    assert r.exit_code == code, (r.exit_code, r.stderr)
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


def _labels(sizes):
    y = np.concatenate([np.full(n, c) for c, n in enumerate(sizes)])
    return np.random.default_rng(1).permutation(y)


def test_ratio_and_cap_counts():
    # KWLS §5.5: 1:100 of 12,500 keeps 125; §5.6 caps keep m.
    y = _labels([12_500, 12_500, 40, 3])
    keep = undersample(y, 4, {0: 0.01, 2: 0.5, 3: 0.001}, {1: 300, 2: 10}, seed=5)
    assert np.all(np.diff(keep) > 0)  # sorted, no repeats
    counts = np.bincount(y[keep], minlength=4)
    assert counts.tolist() == [125, 300, 10, 1]  # min(round(.5·40), 10); at least 1 row
    # Rounding is half up: 0.5·5 = 2.5 → 3 (not Python's banker's 2).
    y2 = _labels([5, 4])
    assert np.bincount(y2[undersample(y2, 2, {0: 0.5}, {}, 0)]).tolist() == [3, 4]


def test_untouched_classes_are_kept_whole_and_seeded():
    y = _labels([200, 50, 60])
    a = undersample(y, 3, {0: 0.1}, {}, seed=1)
    b = undersample(y, 3, {0: 0.1}, {}, seed=1)
    c = undersample(y, 3, {0: 0.1}, {}, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert set(np.flatnonzero(y != 0)) <= set(a)
    # A limit on another class does not change which rows of class 0 are kept.
    d = undersample(y, 3, {0: 0.1}, {2: 5}, seed=1)
    assert np.array_equal(a[y[a] == 0], d[y[d] == 0])


def test_sample_is_uniform_within_class():
    # Over many seeds every row of a class is kept about equally often.
    y = np.zeros(20, dtype=np.int64)
    hits = np.zeros(20)
    for s in range(2000):
        hits[undersample(y, 1, {0: 0.25}, {}, s)] += 1
    expected = 2000 * 5 / 20
    sd = math.sqrt(2000 * 0.25 * 0.75)
    assert np.all(np.abs(hits - expected) < 5 * sd)


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan")])
def test_ratio_outside_range_core(bad):
    with pytest.raises(LsctlError, match=r"\(0, 1\]"):
        undersample(np.array([0, 1]), 2, {0: bad}, {}, 0)


@pytest.fixture
def data(tmp_path):
    t = pa.table({"text": [f"t{i}" for i in range(30)], "label": ["neg"] * 20 + ["pos"] * 10})
    path = tmp_path / "d.parquet"
    write_artifact(t, str(path), make_meta("dataset", ["neg", "pos"]))
    return path


def test_sample_cli(data, tmp_path, cli):
    out = tmp_path / "s.parquet"
    r = cli(
        "data",
        "sample",
        data,
        "-o",
        out,
        "--ratio",
        "neg=0.1",
        "--cap",
        "pos=3",
        "--seed",
        "4",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    t = pq.read_table(out)
    assert sorted(t.column("label").to_pylist()) == ["neg"] * 2 + ["pos"] * 3
    meta = json.loads(pq.read_schema(out).metadata[b"lsctl"])
    assert meta["labels"] == ["neg", "pos"]
    assert meta["params"] == {"ratios": {"neg": 0.1}, "caps": {"pos": 3}, "seed": 4}
    summary = json.loads(r.stdout)
    assert summary["classes"] == [
        {"label": "neg", "before": 20, "after": 2},
        {"label": "pos", "before": 10, "after": 3},
    ]


def test_a_star_caps_every_class_not_named(data, tmp_path, cli):
    # data: 20 neg, 10 pos. '*=4' caps both, neg=1 overrides it for neg.
    out = tmp_path / "star.parquet"
    r = cli("data", "sample", data, "-o", out, "--cap", "*=4", "--cap", "neg=1", "--json")
    assert r.exit_code == 0, r.stderr
    assert sorted(pq.read_table(out).column("label").to_pylist()) == ["neg"] + ["pos"] * 4
    meta = json.loads(pq.read_schema(out).metadata[b"lsctl"])
    assert meta["params"]["caps"] == {"neg": 1, "pos": 4}  # recorded per label
    import lsctl

    labels = pq.read_table(data).column("label").to_pylist()
    kept = lsctl.undersample(labels, ratio={"*": 0.5})  # 10 of 20 neg, 5 of 10 pos
    assert sorted(labels[i] for i in kept) == ["neg"] * 10 + ["pos"] * 5


@pytest.mark.parametrize("value", ["0", "1.01", "-1"])
def test_ratio_outside_range_cli(data, tmp_path, cli, value):
    _err(
        cli("data", "sample", data, "-o", tmp_path / "s.parquet", "--ratio", f"neg={value}"),
        2,  # out of range: a usage error
        f"--ratio neg={float(value)}: the ratio must be in (0, 1]",
    )
    assert not (tmp_path / "s.parquet").exists()


def test_unknown_label_name(data, tmp_path, cli):
    _err(
        cli("data", "sample", data, "-o", tmp_path / "s.parquet", "--ratio", "negative=0.1"),
        1,
        "unknown label 'negative'",
        "neg, pos",
    )


def test_sample_usage_errors(data, tmp_path, cli):
    _err(cli("data", "sample", data, "-o", tmp_path / "s.parquet"), 2, "--ratio", "--cap")
    _err(
        cli("data", "sample", data, "-o", tmp_path / "s.parquet", "--ratio", "neg"),
        2,
        "LABEL=VALUE",
    )
    _err(
        cli("data", "sample", data, "-o", tmp_path / "s.parquet", "--cap", "pos=2.5"),
        2,
        "not a valid value",
    )
    # An out-of-range value is a usage error (exit 2), as for every other option.
    _err(
        cli("data", "sample", data, "-o", tmp_path / "s.parquet", "--cap", "pos=0"),
        2,
        "--cap pos=0: the cap must be at least 1",
    )
