"""No output of any command replaces any of its inputs (issue 13, item 13).

``softlabel DATA -o kw.parquet --keywords kw.parquet`` used to replace the
keywords with soft labels and exit 0. The rule now covers every input: the
positional ones, --keywords, --teacher, --matrix, run directories and
prediction files; each refusal leaves the input byte for byte as it was.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from robustkit import one_error, write_dataset

from lsctl.artifacts.io import clear_inputs, note_inputs, refuse_input
from lsctl.errors import LsctlError


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def data(tmp_path) -> Path:
    return Path(write_dataset(str(tmp_path / "d.parquet")))


def _other(tmp_path: Path, name: str) -> Path:
    # Any existing artifact will do: the refusal comes before it is read.
    return Path(write_dataset(str(tmp_path / name), n=9))


@pytest.mark.parametrize(
    "case",
    ["keywords", "teacher", "matrix", "run-dir", "compare-pred", "positional"],
)
def test_an_input_named_as_the_output_is_refused_and_kept(cli, tmp_path, data, case):
    if case == "keywords":
        victim = _other(tmp_path, "kw.parquet")
        args = ["softlabel", data, "-o", victim, "--keywords", victim]
    elif case == "teacher":
        victim = _other(tmp_path, "teacher.parquet")
        args = ["softlabel", data, "-m", "distill", "--teacher", victim, "-o", victim]
    elif case == "matrix":
        victim = _other(tmp_path, "T.parquet")
        args = ["noise", data, "--kind", "matrix", "--matrix", victim, "-o", victim]
    elif case == "run-dir":
        run = tmp_path / "run"
        run.mkdir()
        victim = Path(write_dataset(str(run / "metrics.parquet"), n=9))
        args = ["eval", run, data, "-o", victim]
    elif case == "compare-pred":
        victim = _other(tmp_path, "p.parquet")
        args = ["compare", victim, "-o", victim]
    else:
        victim = data
        args = ["keywords", data, "-o", data]
    before = _sha(victim)
    one_error(cli(*args), 1, "refusing to overwrite")
    assert _sha(victim) == before
    assert not [p for p in tmp_path.rglob(".lsctl-*")]


def test_registry_covers_files_inside_an_input_directory_and_new_files_are_fine(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    clear_inputs()
    try:
        note_inputs(str(run), "-", None)
        with pytest.raises(LsctlError, match="input directory"):
            refuse_input(str(run / "config.json"))
        refuse_input(str(run / "new.parquet"))  # a new file in a run directory is allowed
        refuse_input(str(tmp_path / "elsewhere.parquet"))
    finally:
        clear_inputs()
    refuse_input(str(run / "config.json"))  # forgotten once the command ends
