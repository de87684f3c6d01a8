"""Broken pipes, interrupted splits and a loss that runs away while finite (issue 13, item 19)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from robustkit import one_error, write_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
import trainkit


def test_a_reader_that_goes_away_is_a_failure_with_no_success_line(tmp_path):
    src = tmp_path / "big.csv"
    with open(src, "w") as f:
        f.write("text,label\n")
        for i in range(20_000):
            f.write(f"some words for row number {i},{'ab'[i % 2]}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lsctl", "data", "import", str(src), "-o", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert len(proc.stdout.read(100)) == 100  # `| head -c 100`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert proc.returncode in (1, 141), (proc.returncode, err)
    assert "wrote" not in err and "Traceback" not in err


def test_an_interrupted_split_leaves_no_split_behind(cli, tmp_path, monkeypatch):
    import lsctl.artifacts as artifacts

    data = write_dataset(str(tmp_path / "d.parquet"))
    real = artifacts.write_artifact
    calls = []

    def interrupted_on_second(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(artifacts, "write_artifact", interrupted_on_second)
    r = cli("data", "split", data, "-o", tmp_path / "splits", "--dev", "0.2", "--test", "0.2")
    assert r.exit_code == 130, r.stderr
    assert len(calls) == 2  # train was fully written before the interrupt
    assert not (tmp_path / "splits").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.parquet"]


def test_an_existing_split_directory_keeps_its_files_when_interrupted(cli, tmp_path, monkeypatch):
    import lsctl.artifacts as artifacts

    data = write_dataset(str(tmp_path / "d.parquet"))
    (tmp_path / "splits").mkdir()
    (tmp_path / "splits" / "notes.txt").write_text("mine")
    monkeypatch.setattr(
        artifacts, "write_artifact", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    r = cli("data", "split", data, "-o", tmp_path / "splits")
    assert r.exit_code == 130
    assert sorted(p.name for p in (tmp_path / "splits").iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("loss", ["aux", "soft"])
def test_a_loss_growing_100x_stops_training(cli, tmp_path, loss):
    _, gold = trainkit.make_texts(200, 0)
    data = trainkit.write_dataset(
        tmp_path / "soft.parquet", n=200, soft=trainkit.uniform_by_hand(gold, 0.1)
    )
    run = tmp_path / "run"
    r = cli("train", data, "-o", run, "--loss", loss, "--lr", "100", "--epochs", "2",
            "--dev-split", "0.2", "-q")  # fmt: skip
    line = one_error(r, 1, "training diverged", "lower --lr")
    assert "grew to" in line or "became" in line
    assert not list(run.glob("*.safetensors"))
