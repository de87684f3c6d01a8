"""benchmarks/gpu.sh refuses to start without CUDA, in one line, before any work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def test_gpu_script_without_cuda_is_one_clear_error(tmp_path):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", PYTHON=sys.executable, OUT=str(tmp_path / "o"))
    res = subprocess.run(
        ["bash", str(REPO / "benchmarks" / "gpu.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 1
    assert res.stderr.startswith("Error: no CUDA GPU") and len(res.stderr.splitlines()) == 1
    assert not Path(tmp_path / "o").exists()


def test_gpu_script_help_and_unknown_argument():
    ok = subprocess.run(
        ["bash", str(REPO / "benchmarks" / "gpu.sh"), "--help"], capture_output=True, text=True
    )
    assert ok.returncode == 0 and "--cpu-check" in ok.stdout
    bad = subprocess.run(
        ["bash", str(REPO / "benchmarks" / "gpu.sh"), "--fast"], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "Error: unknown argument --fast" in bad.stderr
