"""examples/_lib.sh fit_eval: resumable runs (finished ones kept, killed ones continued), a diverged run evaluated at the epoch kept, and
parallel runs (JOBS) that share a grid through one lock per run."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from pathlib import Path

from conftest import REPO

# A stand-in for lsctl: `train` behaves as $MODE says, `eval` writes its -o file.
FAKE = r"""#!/usr/bin/env bash
cmd=$1; shift
case $cmd in
train)
	resume=
	while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; [ "$1" = --resume ] && resume=1; shift; done
	# --resume needs the run's checkpoint, as lsctl's does.
	[ -z "$resume" ] || [ -f "$out/checkpoint/state.pt" ] || { echo "Error: no checkpoint" >&2; exit 1; }
	[ -n "$resume" ] || [ ! -e "$out" ] || { echo "Error: $out is not empty" >&2; exit 1; }
	mkdir -p "$out"; echo train >>"$LOG"; echo "$out" >>"$LOG.runs"; sleep "${SLEEP:-0}"
	[ -z "$resume" ] || echo "$(basename "$out")" >>"$LOG.resumed"
	[ "${FAIL_RUN:-}" != "$(basename "$out")" ] || { echo "Error: bad run" >&2; exit 1; }
	case $MODE in
	ok) echo "epoch 1: dev accuracy 0.5" >&2; echo '{"status": "finished"}' >"$out/config.json"; touch "$out/model.safetensors"
		mkdir -p "$out/checkpoint"; touch "$out/checkpoint/state.pt" ;;
	diverged) echo '{"status": "diverged"}' >"$out/config.json"; touch "$out/model.safetensors"
		echo "Error: training diverged" >&2; exit 1 ;;
	early) echo '{"status": "diverged"}' >"$out/config.json"
		echo "Error: training diverged, no weights" >&2; exit 1 ;;
	broken) echo "Error: something else" >&2; exit 1 ;;
	killed) mkdir -p "$out/checkpoint"; touch "$out/checkpoint/state.pt"; exit 137 ;;
	esac ;;
eval)
	while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
	echo eval >>"$LOG"; echo preds >"$out" ;;
esac
"""


def _fit_eval(tmp_path: Path, mode: str, extra_env: dict | None = None, script: str | None = None):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "lsctl").write_text(FAKE)
    (bin_dir / "lsctl").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", MODE=mode,
               LOG=str(tmp_path / "log"), OUT=str(tmp_path / "out"), **(extra_env or {}))  # fmt: skip
    script = f'source "{REPO}/examples/_lib.sh"; ' + (
        script or "fit_eval nls-0.4 1 train.parquet dev.parquet test.parquet"
    )
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


def _resumed(tmp_path: Path) -> list[str]:
    log = tmp_path / "log.resumed"
    return log.read_text().split() if log.exists() else []


def test_a_run_killed_part_way_continues_from_its_checkpoint(tmp_path):
    """A grid killed mid-run (machine gone, Ctrl-C) loses at most the epoch in progress."""
    assert _fit_eval(tmp_path, "killed").returncode == 1
    run = tmp_path / "out" / "runs" / "nls-0.4-s1"
    assert (run / "checkpoint" / "state.pt").exists()
    r = _fit_eval(tmp_path, "ok")
    assert r.returncode == 0, r.stderr
    assert "resume nls-0.4 (seed 1) from its last checkpoint" in r.stderr
    assert _resumed(tmp_path) == ["nls-0.4-s1"]
    assert (tmp_path / "out" / "preds" / "nls-0.4-s1.parquet").exists()
    # Finished: nothing of the partial run is left to resume from.
    assert not (run / "checkpoint").exists()
    assert not (tmp_path / "out" / "runs" / "nls-0.4-s1.options").exists()


def test_a_killed_run_restarts_afresh_with_other_options_or_fresh(tmp_path):
    assert _fit_eval(tmp_path, "killed", {"TRAIN_EXTRA": "--epochs 40"}).returncode == 1
    other = _fit_eval(tmp_path, "killed", {"TRAIN_EXTRA": "--epochs 10"})
    assert "train nls-0.4 (seed 1)" in other.stderr and _resumed(tmp_path) == []
    fresh = _fit_eval(tmp_path, "ok", {"TRAIN_EXTRA": "--epochs 10", "FRESH": "1"})
    assert fresh.returncode == 0, fresh.stderr
    assert _resumed(tmp_path) == []
    # Without a checkpoint (killed before the first epoch ended) there is nothing to resume.
    other_dir = tmp_path / "no_checkpoint"
    other_dir.mkdir()
    assert _fit_eval(other_dir, "broken").returncode == 1
    r = _fit_eval(other_dir, "ok")
    assert r.returncode == 0, r.stderr
    assert _resumed(other_dir) == []


# A grid of 3 methods × 2 seeds, as the example scripts write their run loops.
GRID = """
runs() {
	local seed m
	for seed in 1 2; do
		for m in a b c; do fit_eval "$m" "$seed" train.parquet dev.parquet test.parquet; done
	done
}
in_jobs runs
"""


def _held_by(tmp_path: Path, name: str, pid: int) -> None:
    lock = tmp_path / "out" / "preds" / f"{name}.lock"
    lock.mkdir(parents=True)
    (lock / "pid").write_text(f"{pid}\n")


def test_parallel_jobs_train_each_run_exactly_once(tmp_path):
    r = _fit_eval(tmp_path, "ok", {"JOBS": "2", "SLEEP": "0.3"}, GRID)
    assert r.returncode == 0, r.stderr
    runs = (tmp_path / "log.runs").read_text().split()
    assert sorted(Path(p).name for p in runs) == sorted(f"{m}-s{s}" for m in "abc" for s in (1, 2))
    preds = tmp_path / "out" / "preds"
    assert sorted(p.name for p in preds.glob("*.parquet")) == sorted(
        f"{m}-s{s}.parquet" for m in "abc" for s in (1, 2)
    )
    assert not list(preds.glob("*.lock")), "every lock is released"
    # Both copies took runs: the other one's current run was skipped, not retrained.
    assert "is training it" in r.stderr
    # Progress lines of parallel runs name their run, since they interleave.
    assert len(re.findall(r"^\[[abc] s[12]\] epoch 1: dev accuracy", r.stderr, re.M)) == 6


def test_a_run_held_by_a_live_process_is_skipped_then_waited_for(tmp_path):
    holder = subprocess.Popen(["sleep", "1.5"])
    # Reaped as soon as it exits: an unreaped (zombie) process still answers kill -0.
    threading.Thread(target=holder.wait, daemon=True).start()
    try:
        _held_by(tmp_path, "b-s1", holder.pid)
        r = _fit_eval(tmp_path, "ok", {}, GRID)
        assert r.returncode == 0, r.stderr
        # in_jobs returned only after the other process let go of b-s1.
        assert holder.poll() is not None
    finally:
        holder.kill()
    runs = [Path(p).name for p in (tmp_path / "log.runs").read_text().split()]
    assert "b-s1" not in runs and len(runs) == 5
    assert "\n[" not in r.stderr, "one job: progress lines as lsctl prints them"
    assert f"skip b (seed 1): process {holder.pid} is training it" in r.stderr
    assert f"wait for b-s1, which process {holder.pid} is training" in r.stderr


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    _held_by(tmp_path, "nls-0.4-s1", dead.pid)
    r = _fit_eval(tmp_path, "ok")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "preds" / "nls-0.4-s1.parquet").exists()
    assert not (tmp_path / "out" / "preds" / "nls-0.4-s1.lock").exists()


def test_a_failed_parallel_run_stops_the_grid_with_one_error(tmp_path):
    r = _fit_eval(tmp_path, "ok", {"JOBS": "2", "FAIL_RUN": "a-s1", "SLEEP": "0.2"}, GRID)
    assert r.returncode == 1
    assert "Error: a parallel run failed" in r.stderr
    assert not (tmp_path / "out" / "preds" / "a-s1.parquet").exists()


def test_jobs_must_be_a_positive_whole_number(tmp_path):
    r = _fit_eval(tmp_path, "ok", {"JOBS": "0"})
    assert r.returncode == 1
    assert "JOBS must be a whole number" in r.stderr


def _script(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OUT=str(tmp_path / "out"))
    (tmp_path / "out").mkdir(exist_ok=True)
    script = f'source "{REPO}/examples/_lib.sh"; results_file; {body}'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env)


def test_results_are_written_whole_by_each_invocation(tmp_path):
    """Two invocations on one OUT each leave one whole results.md; a failed one leaves it alone."""
    for n in ("first", "second"):
        r = _script(
            tmp_path, f'echo "# {n}" >"$RESULTS"; echo "| table |" >>"$RESULTS"; results_done'
        )
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "out" / "results.md").read_text() == f"# {n}\n| table |\n"
        assert f"# {n}" in r.stderr  # printed at the end, as before
    broken = _script(tmp_path, 'echo "# half" >"$RESULTS"; die "stopped"')
    assert broken.returncode == 1
    assert (tmp_path / "out" / "results.md").read_text() == "# second\n| table |\n"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["results.md"], "no temporary left"
