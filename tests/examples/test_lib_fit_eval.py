"""examples/_lib.sh fit_eval: resumable runs, and a diverged run evaluated at the epoch kept."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import REPO

# A stand-in for lsctl: `train` behaves as $MODE says, `eval` writes its -o file.
FAKE = r"""#!/usr/bin/env bash
cmd=$1; shift
case $cmd in
train)
	while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
	mkdir -p "$out"; echo train >>"$LOG"
	case $MODE in
	ok) echo '{"status": "finished"}' >"$out/config.json"; touch "$out/model.safetensors"
		mkdir -p "$out/checkpoint"; touch "$out/checkpoint/state.pt" ;;
	diverged) echo '{"status": "diverged"}' >"$out/config.json"; touch "$out/model.safetensors"
		echo "Error: training diverged" >&2; exit 1 ;;
	early) echo '{"status": "diverged"}' >"$out/config.json"
		echo "Error: training diverged, no weights" >&2; exit 1 ;;
	broken) echo "Error: something else" >&2; exit 1 ;;
	esac ;;
eval)
	while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
	echo eval >>"$LOG"; echo preds >"$out" ;;
esac
"""


def _fit_eval(tmp_path: Path, mode: str, extra_env: dict | None = None):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "lsctl").write_text(FAKE)
    (bin_dir / "lsctl").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", MODE=mode,
               LOG=str(tmp_path / "log"), OUT=str(tmp_path / "out"), **(extra_env or {}))  # fmt: skip
    script = f'source "{REPO}/examples/_lib.sh"; fit_eval nls-0.4 1 train.parquet dev.parquet test.parquet'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env)


def test_a_diverged_run_is_evaluated_at_the_epoch_it_kept(tmp_path):
    r = _fit_eval(tmp_path, "diverged")
    assert r.returncode == 0, r.stderr
    assert "diverged; evaluating the epoch the guard kept" in r.stderr
    assert (tmp_path / "out" / "preds" / "nls-0.4-s1.parquet").exists()


def test_a_run_that_diverged_before_any_epoch_is_listed_not_fatal(tmp_path):
    r = _fit_eval(tmp_path, "early")
    assert r.returncode == 0, r.stderr
    assert "no result" in r.stderr
    assert not (tmp_path / "out" / "preds" / "nls-0.4-s1.parquet").exists()
    assert (tmp_path / "out" / "diverged.txt").read_text() == "nls-0.4 seed 1\n"


def test_any_other_training_failure_stops_with_one_error_line(tmp_path):
    r = _fit_eval(tmp_path, "broken")
    assert r.returncode == 1
    assert "Error: lsctl train failed for nls-0.4 (seed 1)" in r.stderr
    assert not (tmp_path / "out" / "preds" / "nls-0.4-s1.parquet").exists()


def test_finished_runs_are_kept_unless_fresh(tmp_path):
    assert _fit_eval(tmp_path, "ok").returncode == 0
    run = tmp_path / "out" / "runs" / "nls-0.4-s1"
    # Finished and evaluated: the weights stay, the resume checkpoint goes.
    assert (run / "model.safetensors").exists() and not (run / "checkpoint").exists()
    assert _fit_eval(tmp_path, "ok").returncode == 0
    assert (tmp_path / "log").read_text().split() == ["train", "eval"]
    assert _fit_eval(tmp_path, "ok", {"FRESH": "1"}).returncode == 0
    assert (tmp_path / "log").read_text().split() == ["train", "eval", "train", "eval"]


def test_resuming_with_other_options_is_refused_not_mixed(tmp_path):
    """A kept run must have been trained with this invocation's options (EPOCHS, TRAIN_EXTRA…)."""
    assert _fit_eval(tmp_path, "ok", {"TRAIN_EXTRA": "--epochs 40"}).returncode == 0
    same = _fit_eval(tmp_path, "ok", {"TRAIN_EXTRA": "--epochs 40"})
    assert same.returncode == 0 and "keep nls-0.4" in same.stderr
    other = _fit_eval(tmp_path, "ok", {"TRAIN_EXTRA": "--epochs 10"})
    assert other.returncode == 1
    assert "trained with other options" in other.stderr
    assert "--epochs" not in other.stderr.split("(")[0]  # the path first, then what differs
    assert "(then: 40; now: 10)" in other.stderr
    assert (tmp_path / "log").read_text().split() == ["train", "eval"]
    fresh = _fit_eval(tmp_path, "ok", {"TRAIN_EXTRA": "--epochs 10", "FRESH": "1"})
    assert fresh.returncode == 0
    assert _fit_eval(tmp_path, "ok", {"TRAIN_EXTRA": "--epochs 10"}).returncode == 0
