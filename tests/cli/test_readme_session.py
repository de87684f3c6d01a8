"""The README's "A session" block, run as written (issue 13, item 1).

Only the data and the model size change: the block's IMDB path becomes the
small TREC file, and `train` gets tiny sizes so the whole session takes
seconds. Output folders that do not exist yet (runs/, preds/) must be created.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, shared_dataset

TINY_TRAIN = "--epochs 1 --embed-dim 8 --max-length 24 --threads 1 --device cpu --quiet"


def session_commands() -> list[str]:
    """The shell lines of the README's "A session" code block, comments dropped."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## A session\s+```sh\n(.*?)```", text, re.S)
    assert block, "README.md has no '## A session' sh block"
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def test_the_session_block_is_found_and_writes_into_missing_folders():
    cmds = session_commands()
    assert all(c.startswith("lsctl ") for c in cmds)
    # The block is what the issue reported: outputs under folders nobody made.
    outs = [shlex.split(c)[shlex.split(c).index("-o") + 1] for c in cmds if " -o " in c]
    assert any(o.startswith("runs/") for o in outs) and any(o.startswith("preds/") for o in outs)


@pytest.mark.slow
@pytest.mark.shared
def test_readme_session_runs_as_written(tmp_path):
    trec = shared_dataset("trec", "train.parquet")
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", COLUMNS="100")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for cmd in session_commands():
        cmd = cmd.replace("../shared/datasets/imdb/train.parquet", str(trec))
        if cmd.startswith("lsctl train "):
            cmd = f"{cmd} {TINY_TRAIN}"
        r = subprocess.run(
            ["bash", "-c", cmd], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert r.returncode == 0, f"{cmd}\n{r.stderr}"
        assert "Traceback" not in r.stderr
    for path in (
        "imdb.parquet",
        "splits/train.parquet",
        "kw.parquet",
        "kwls.parquet",
        "oof.parquet",
        "runs/kwls/config.json",
        "runs/ce/config.json",
        "preds/kwls.parquet",
        "preds/ce.parquet",
        "kwls.png",
        "cmp.parquet",
        "forest.png",
    ):
        assert (tmp_path / path).is_file(), path
    # No temporary file is left anywhere.
    assert not [p for p in tmp_path.rglob(".lsctl-*")]
