"""`lsctl train` through the CLI: outputs, errors, and the TREC acceptance run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import shared_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from trainkit import LABELS, write_dataset

TINY = ["--epochs", "1", "--embed-dim", "8", "--max-length", "16", "--device", "cpu"]


def test_json_summary_and_run_directory(cli, tmp_path):
    data = write_dataset(tmp_path / "train.parquet", n=60)
    r = cli("train", data, "-o", tmp_path / "run", *TINY, "--json")
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["labels"] == LABELS and summary["epochs_run"] == 1
    assert summary["stopped"] == "completed" and summary["best_epoch"] == 1
    assert {p.name for p in (tmp_path / "run").iterdir()} == {
        "config.json",
        "vocab.json",
        "model.safetensors",
        "metrics.parquet",
        "checkpoint",
    }
    from lsctl.artifacts import read_artifact

    table, reader = read_artifact(str(tmp_path / "run" / "metrics.parquet"))
    assert reader.kind == "run" and reader.labels == LABELS
    assert table.column("dev_accuracy")[0].as_py() == summary["best_dev_accuracy"]


def test_the_first_line_says_what_trains_on_what(cli, tmp_path):
    data = write_dataset(tmp_path / "train.parquet", n=60)
    r = cli("train", data, "-o", tmp_path / "run", *TINY, "--dev-split", "0.2")
    assert r.exit_code == 0, r.stderr
    first = r.stderr.splitlines()[0]
    import lsctl

    parts = lsctl.split(pq.read_table(data).column("label").to_pylist(), dev=0.2, test=0)
    n_train, n_dev = len(parts["train"]), len(parts["dev"])
    assert first.startswith(
        f"training textcnn (ce loss) on {n_train} rows, {len(LABELS)} labels, vocabulary "
    ), first
    assert f"dev: {n_dev} held out from TRAIN (--dev-split 0.2, stratified, seed 0)" in first
    assert first.endswith("up to 1 epoch on cpu")


def test_existing_run_needs_resume(cli, tmp_path):
    data = write_dataset(tmp_path / "train.parquet", n=60)
    assert cli("train", data, "-o", tmp_path / "run", *TINY, "-q").exit_code == 0
    r = cli("train", data, "-o", tmp_path / "run", *TINY, "-q")
    assert r.exit_code == 1
    assert "--resume" in r.stderr and "Traceback" not in r.stderr
    r = cli(
        "train",
        data,
        "-o",
        tmp_path / "run",
        *TINY[:-4],
        "--epochs",
        "2",
        "--max-length",
        "16",
        "--embed-dim",
        "8",
        "--device",
        "cpu",
        "--resume",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["epochs_run"] == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--loss", "soft"], 1, "lsctl softlabel"),
        (["--loss", "aux-head"], 1, "lsctl softlabel"),
        (["--model", "cnn"], 2, "textcnn, lstm, fasttext or hf:"),
        (["--loss", "kl"], 2, "--loss"),
        (["--label-smoothing", "1.5"], 2, "--label-smoothing"),
        (["--warmup-epochs", "1"], 2, "--warmup-epochs"),
        (
            ["--label-smoothing", "-0.2", "--warmup-epochs", "1"],
            2,
            "--warmup-epochs 1 leaves no epoch after the CE warm-up (--epochs 1)",
        ),
        (["--label-smoothing", "-0.2", "--warmup-epochs", "-1"], 2, "--warmup-epochs must be"),
        (["--precision", "fp16"], 2, "--precision"),
        (["--dev", "nope.parquet"], 1, "nope.parquet: no such file"),
        # '' is not "not given": no dev split carved, no random vectors in place.
        (["--dev", ""], 2, "--dev is empty"),
        (["--loss", "aux", "--alpha", "1e200"], 2, "--alpha must be at most 1e+06"),
        (["--model", "fasttext", "--buckets", str(2**62)], 2, "do not fit in this machine's"),
        (["--embeddings", ""], 2, "--embeddings is empty"),
    ],
)
def test_bad_input_is_one_error_line(cli, tmp_path, args, code, message):
    data = write_dataset(tmp_path / "train.parquet", n=30)
    r = cli("train", data, "-o", tmp_path / "run", *TINY, *args)
    assert r.exit_code == code, r.stderr
    assert r.stderr.startswith("Error:") and message in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_label_smoothing_on_softlabels_conflicts(cli, tmp_path):
    soft = np.full((30, 3), 1 / 3)
    data = write_dataset(tmp_path / "soft.parquet", n=30, soft=soft)
    r = cli(
        "train", data, "-o", tmp_path / "run", *TINY, "--loss", "soft", "--label-smoothing", "0.1"
    )
    assert r.exit_code == 2 and "--label-smoothing" in r.stderr


def test_a_soft_label_column_that_the_loss_ignores_is_pointed_out(cli, tmp_path):
    soft = np.full((30, 3), 1 / 3)
    data = write_dataset(tmp_path / "soft.parquet", n=30, soft=soft)
    r = cli("train", data, "-o", tmp_path / "run", *TINY)  # default --loss ce
    assert r.exit_code == 0, r.stderr
    assert "has a soft_label column, which --loss ce does not read" in " ".join(r.stderr.split())
    r = cli("train", data, "-o", tmp_path / "run2", *TINY, "--loss", "soft")
    assert r.exit_code == 0 and "does not read" not in r.stderr
    for args, how in (
        (["--loss", "ols"], "--loss ols does not read"),
        (["--label-smoothing", "0.1"], "--loss ce with --label-smoothing does not read"),
    ):
        r = cli("train", data, "-o", tmp_path / how.split()[1], *TINY, *args)
        assert r.exit_code == 0 and how in " ".join(r.stderr.split()), r.stderr


def test_divergence_is_a_clear_error(cli, tmp_path):
    data = write_dataset(tmp_path / "train.parquet", n=60)
    r = cli(
        "train",
        data,
        "-o",
        tmp_path / "run",
        *TINY,
        "--lr",
        "1e12",
        "--optimizer",
        "sgd",
        "--batch-size",
        "8",
    )
    assert r.exit_code == 1
    assert "diverged" in r.stderr and "--lr" in r.stderr and "Traceback" not in r.stderr


def test_help_has_an_example(cli):
    r = cli("train", "--help")
    assert r.exit_code == 0
    assert "lsctl train" in r.stdout and "--label-smoothing" in r.stdout


def test_help_does_not_import_torch():
    import subprocess

    code = (
        "import sys; from typer.testing import CliRunner; from lsctl.cli.app import app; "
        "CliRunner().invoke(app, ['train', '--help']); "
        "print([m for m in ('torch', 'transformers', 'sklearn', 'scipy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_trec_textcnn_reaches_85_percent(cli, tmp_path):
    """Acceptance: TextCNN, ce, 10 epochs on CPU, ≥ 85% TREC test accuracy (Kim 2014: ~91%)."""
    train = shared_dataset("trec", "train.parquet")
    test = shared_dataset("trec", "test.parquet")
    r = cli(
        "train",
        train,
        "-o",
        tmp_path / "run",
        "--model",
        "textcnn",
        "--loss",
        "ce",
        "--epochs",
        "10",
        "--device",
        "cpu",
        "--seed",
        "0",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    from lsctl.train.predict import load_predictor

    p = load_predictor(str(tmp_path / "run"), "cpu")
    t = pq.read_table(test)
    z = p.logits(t.column("text").to_pylist())
    y = np.array([p.labels.index(v) for v in t.column("label").to_pylist()])
    accuracy = float((z.argmax(1) == y).mean())
    print(f"TREC test accuracy: {accuracy:.4f}")
    assert accuracy >= 0.85


def _with_empty_texts(path, n, seed, empty_rows):
    """A dataset whose rows in empty_rows have a null, "" or whitespace-only text."""
    write_dataset(path, n=n, seed=seed)
    table = pq.read_table(path)
    blanks = [None, "", " \t "]
    texts = table.column("text").to_pylist()
    for j, i in enumerate(empty_rows):
        texts[i] = blanks[j % len(blanks)]
    import pyarrow as pa

    pq.write_table(table.set_column(0, "text", pa.array(texts, pa.string())), path)
    return path


@pytest.mark.parametrize("dirty", ["train", "dev"])
def test_empty_texts_are_one_error_naming_drop_empty(cli, tmp_path, dirty):
    rows = {"train": [3, 17, 40], "dev": [5]}
    train = tmp_path / "train.parquet"
    dev = tmp_path / "dev.parquet"
    for name, path, n, seed in (("train", train, 60, 0), ("dev", dev, 15, 4)):
        if name == dirty:
            _with_empty_texts(path, n, seed, rows[name])
        else:
            write_dataset(path, n=n, seed=seed)
    r = cli("train", train, "-o", tmp_path / "run", *TINY, "--dev", dev)
    assert r.exit_code == 1, r.stderr
    assert r.stderr.startswith("Error:") and len(r.stderr.strip().splitlines()) == 1
    bad = train if dirty == "train" else dev
    assert str(bad) in r.stderr and "--drop-empty" in r.stderr
    counted = {"train": "3 rows have", "dev": "1 row has"}[dirty]
    assert f"{counted} null or empty text" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_drop_empty_drops_train_and_dev_rows_with_a_warning(cli, tmp_path):
    train = _with_empty_texts(tmp_path / "train.parquet", 60, 0, [3, 17, 40])
    dev = _with_empty_texts(tmp_path / "dev.parquet", 15, 4, [0, 9])
    r = cli("train", train, "-o", tmp_path / "run", *TINY, "--dev", dev, "--drop-empty", "--json")
    assert r.exit_code == 0, r.stderr
    assert f"{train}: dropped 3 rows with null or empty text" in r.stderr
    assert f"{dev}: dropped 2 rows with null or empty text" in r.stderr
    summary = json.loads(r.stdout)
    assert (summary["train_examples"], summary["dev_examples"]) == (57, 13)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["options"]["drop_empty"] is True
    assert config["dropped_empty"] == {str(train): 3, str(dev): 2}
    vocab = json.loads((tmp_path / "run" / "vocab.json").read_text())
    assert "" not in vocab["itos"]


def test_drop_empty_with_only_empty_texts_is_an_error(cli, tmp_path):
    train = _with_empty_texts(tmp_path / "train.parquet", 6, 0, list(range(6)))
    r = cli("train", train, "-o", tmp_path / "run", *TINY, "--drop-empty")
    assert r.exit_code == 1
    assert "no rows left after --drop-empty" in r.stderr and "Traceback" not in r.stderr
