"""SIGTERM acts like Ctrl-C, and a run killed before its first checkpoint restarts in place.

Issue 13, items 14–15. Real subprocesses and real signals; each test keeps
the training tiny so the whole file stays within a few seconds of CPU.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from trainkit import write_dataset

from lsctl.artifacts.io import atomic_path, remove_stale_temporaries

LSCTL = [sys.executable, "-m", "lsctl"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}


def _error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("Error:")]


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.01)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_on_a_blocked_command_exits_143_with_one_line(tmp_path):
    # `data info -` waits for stdin; SIGTERM must not kill it silently.
    proc = subprocess.Popen(
        [*LSCTL, "data", "info", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=tmp_path,
    )
    time.sleep(2.0)  # interpreter start and imports, then it blocks on stdin
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert _error_lines(err) == [ln for ln in err.splitlines() if ln.strip()]
    assert len(_error_lines(err)) == 1 and "SIGTERM" in err


def _train_cmd(data: Path, run: Path, *extra: str) -> list[str]:
    return [
        *LSCTL, "train", str(data), "-o", str(run), "--model", "textcnn", "--epochs", "2",
        "--dev-split", "0.1", "--batch-size", "8", "--seed", "1", *extra,
    ]  # fmt: skip


@pytest.mark.slow
def test_sigterm_in_training_saves_the_checkpoint_and_resume_finishes(tmp_path):
    data = write_dataset(tmp_path / "d.parquet", n=3000)
    run = tmp_path / "run"
    proc = subprocess.Popen(
        _train_cmd(data, run), stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV
    )
    _wait_for(run / "config.json", proc)
    time.sleep(0.5)  # inside epoch 1
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and len(_error_lines(err)) == 1
    # One error line in all (after the start line): the checkpoint note is part of it.
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines[0].startswith("training textcnn (ce loss) on ")
    assert lines[1:] == _error_lines(err)
    assert "--resume" in _error_lines(err)[0]
    assert (run / "checkpoint").is_dir()
    assert not [p for p in tmp_path.rglob(".lsctl-*")]
    r = subprocess.run(_train_cmd(data, run, "--resume"), capture_output=True, text=True, env=ENV)
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
def test_a_run_killed_before_its_first_checkpoint_restarts_in_place(tmp_path):
    data = write_dataset(tmp_path / "d.parquet", n=3000)
    run = tmp_path / "run"
    proc = subprocess.Popen(
        _train_cmd(data, run), stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV
    )
    _wait_for(run / "config.json", proc)
    proc.kill()  # SIGKILL: nothing runs, nothing is saved
    proc.communicate(timeout=30)
    assert not (run / "checkpoint").exists(), "epoch 1 finished before the kill; grow the data"
    fresh = subprocess.run(_train_cmd(data, run), capture_output=True, text=True, env=ENV)
    assert fresh.returncode == 1 and "--resume" in _error_lines(fresh.stderr)[0]
    r = subprocess.run(_train_cmd(data, run, "--resume"), capture_output=True, text=True, env=ENV)
    assert r.returncode == 0, r.stderr
    assert "starting from scratch" in r.stderr
    assert (run / "model.safetensors").exists() or any(run.glob("*.safetensors"))


def test_stale_temporaries_of_dead_writers_are_removed_by_the_next_write(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".lsctl-{dead}-abc.tmp"
    stale.write_bytes(b"x" * 100)
    # Alive writer (this process's parent shell stands in): its file is older
    # than nothing, so it stays only if the file is newer than the process.
    alive = tmp_path / f".lsctl-{os.getppid()}-def.tmp"
    alive.write_bytes(b"y")
    legacy_old = tmp_path / ".lsctl-zz9x.tmp"
    legacy_old.write_bytes(b"z")
    old = time.time() - 2 * 86_400
    os.utime(legacy_old, (old, old))
    legacy_new = tmp_path / ".lsctl-zz8y.tmp"
    legacy_new.write_bytes(b"w")
    with atomic_path(str(tmp_path / "out.parquet")) as tmp:
        Path(tmp).write_bytes(b"data")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["out.parquet", alive.name, legacy_new.name])
    # A file older than the process now holding its pid is stale (pid reuse).
    os.utime(alive, (1, 1))
    assert remove_stale_temporaries(str(tmp_path)) == [alive.name]


def test_sigterm_while_writing_removes_the_temporary_file_and_exits_143(cli, tmp_path, monkeypatch):
    import pyarrow.parquet as pq
    from robustkit import write_dataset as small

    from lsctl.errors import Terminated

    data = small(str(tmp_path / "d.parquet"))

    def terminated(self, *args, **kwargs):
        # What the SIGTERM handler raises, at the worst moment: mid-write.
        raise Terminated()

    monkeypatch.setattr(pq.ParquetWriter, "write_table", terminated)
    r = cli("data", "sample", data, "-o", tmp_path / "out" / "s.parquet", "--cap", "neg=3")
    assert r.exit_code == 143, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and "SIGTERM" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.parquet"]
