"""Paper cuts found by a new-user audit: each case is one designed error line, or the
option now does what its name says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from robustkit import one_error, write_dataset

import lsctl
from lsctl.validation import ParameterError


@pytest.fixture
def data(tmp_path) -> str:
    return write_dataset(str(tmp_path / "d.parquet"))


@pytest.mark.parametrize(
    "args",
    [
        ["data", "split", "{data}", "-o", "{tmp}/sp"],
        ["data", "folds", "{data}", "-o", "{tmp}/fo"],
        ["data", "sample", "{data}", "-o", "{tmp}/s.parquet", "--cap", "neg=3"],
        ["softlabel", "{data}", "-m", "kwls", "--cross-fit", "3", "-o", "{tmp}/k.parquet"],
        ["noise", "{data}", "-k", "symmetric", "--rate", "0.2", "-o", "{tmp}/n.parquet"],
        ["train", "{data}", "-o", "{tmp}/run", "--model", "fasttext", "--epochs", "1"],
    ],
)
@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_a_seed_out_of_range_is_a_usage_error(cli, tmp_path, data, args, seed):
    args = [a.format(data=data, tmp=tmp_path) for a in args]
    one_error(cli(*args, "--seed", seed), 2, "--seed", "4294967295")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.parquet"]


@pytest.mark.parametrize("seed", [-1, 1.5, True, 2**32])
def test_the_api_refuses_bad_seeds_with_its_own_spelling(seed):
    y = ["a", "b"] * 10
    with pytest.raises(ParameterError, match=r"seed=.* must be a whole number"):
        lsctl.split(y, seed=seed)
    with pytest.raises(ParameterError, match=r"seed=.* must be a whole number"):
        lsctl.add_noise(y, kind="symmetric", rate=0.2, seed=seed)


def test_seeds_at_both_ends_of_the_range_work():
    y = ["a", "b"] * 10
    for seed in (0, 2**32 - 1, np.int64(5)):
        parts = lsctl.split(y, seed=seed)
        assert sum(len(v) for v in parts.values()) == 20


def test_negative_weight_decay_is_a_usage_error(cli, tmp_path, data):
    r = cli("train", data, "-o", tmp_path / "run", "--model", "fasttext", "--weight-decay", "-1")
    one_error(r, 2, "--weight-decay must be >= 0")
    assert not (tmp_path / "run").exists()


def test_fasttext_grad_clip_runs_from_the_command_line(cli, tmp_path, data):
    r = cli("train", data, "-o", tmp_path / "run", "--model", "fasttext", "--epochs", "1",
            "--grad-clip", "1", "-q")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "run" / "model.safetensors").exists()


def _rows(path: Path, n: int = 0, **cols) -> str:
    pq.write_table(pa.table(cols) if cols else pq.read_table(path).slice(0, n), path)
    return str(path)
