"""`lsctl data folds`: a partition into F folds, the one `softlabel --cross-fit` uses."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lsctl.artifacts import make_meta, read_artifact, write_artifact

WORDS = {"pos": ["good", "great", "fine", "nice"], "neg": ["bad", "awful", "poor", "sad"]}


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(3)
    labels = rng.choice(["neg", "pos"], size=53)
    texts = [" ".join(rng.choice(WORDS[y], 3)) + f" w{i % 7}" for i, y in enumerate(labels)]
    t = pa.table({"id": pa.array(np.arange(500, 553), pa.int64()), "text": texts, "label": labels})
    path = str(tmp_path / "data.parquet")
    write_artifact(t, path, make_meta("dataset", ["neg", "pos"]))
    return path


def _ids(path) -> list[int]:
    return pq.read_table(path).column("id").to_pylist()


def test_folds_partition_the_rows_and_each_train_is_the_complement(cli, data, tmp_path):
    r = cli("data", "folds", data, "-o", tmp_path / "f", "--folds", "4", "--seed", "2", "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    every = set(_ids(data))
    held = []
    for i, fold in enumerate(out["outputs"], 1):
        h, t = _ids(fold["heldout"]), _ids(fold["train"])
        assert set(h).isdisjoint(t) and set(h) | set(t) == every
        assert fold["heldout"].endswith(f"fold{i}/heldout.parquet")
        held.append(set(h))
    assert sorted(len(h) for h in held) == [13, 13, 13, 14]  # round-robin sizes differ by <= 1
    assert set().union(*held) == every and sum(map(len, held)) == len(every)
    _, reader = read_artifact(out["outputs"][0]["train"])
    assert reader.labels == ["neg", "pos"] and reader.meta["params"]["folds"] == 4
    # Seeded: the same seed gives the same folds, another seed other folds.
    cli("data", "folds", data, "-o", tmp_path / "g", "--folds", "4", "--seed", "2", "-q")
    cli("data", "folds", data, "-o", tmp_path / "h", "--folds", "4", "--seed", "3", "-q")
    assert _ids(tmp_path / "g/fold1/heldout.parquet") == sorted(held[0], key=_ids(data).index)
    assert set(_ids(tmp_path / "h/fold1/heldout.parquet")) != held[0]


def test_folds_are_the_cross_fit_folds_of_kwls(cli, data, tmp_path):
    """KWLS cross-fitted on F folds equals KWLS fitted on foldI/train, applied to foldI/heldout."""
    assert (
        cli("data", "folds", data, "-o", tmp_path / "f", "--folds", "3", "--seed", "5").exit_code
        == 0
    )
    r = cli("softlabel", data, "-o", tmp_path / "cf.parquet", "--method", "kwls",
            "--cross-fit", "3", "--seed", "5", "-q")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    cf = pq.read_table(tmp_path / "cf.parquet")
    row = {i: k for k, i in enumerate(cf.column("id").to_pylist())}
    soft = np.array(cf.column("soft_label").to_pylist())
    for i in (1, 2, 3):
        fold = tmp_path / "f" / f"fold{i}"
        kw = tmp_path / f"kw{i}.parquet"
        assert cli("keywords", fold / "train.parquet", "-o", kw, "-q").exit_code == 0
        out = tmp_path / f"h{i}.parquet"
        r = cli("softlabel", fold / "heldout.parquet", "-o", out, "--method", "kwls",
                "--keywords", kw, "-q")  # fmt: skip
        assert r.exit_code == 0, r.stderr
        h = pq.read_table(out)
        expected = soft[[row[j] for j in h.column("id").to_pylist()]]
        np.testing.assert_allclose(
            np.array(h.column("soft_label").to_pylist()), expected, atol=1e-6
        )


def test_arrows_format_writes_ipc_streams(cli, data, tmp_path):
    import pyarrow as pa

    r = cli("data", "folds", data, "-o", tmp_path / "f", "--folds", "2", "--format", "arrows", "-q")
    assert r.exit_code == 0, r.stderr
    with pa.ipc.open_stream(str(tmp_path / "f" / "fold2" / "heldout.arrows")) as reader:
        held = reader.read_all().column("id").to_pylist()
    with pa.ipc.open_stream(str(tmp_path / "f" / "fold2" / "train.arrows")) as reader:
        rest = reader.read_all().column("id").to_pylist()
    assert sorted(held + rest) == _ids(data)


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [(["--folds", "1"], 2, "--folds 1"), (["--folds", "60"], 1, "cannot fill 60 folds")],
)
def test_bad_fold_counts_are_one_line_errors(cli, data, tmp_path, args, code, needle):
    r = cli("data", "folds", data, "-o", tmp_path / "f", *args)
    assert r.exit_code == code and needle in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "f").exists()
