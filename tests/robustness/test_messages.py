"""Designed one-line messages where a generic "unexpected <Exception>" was printed.

Issue 13, items 17–18: each case ends with exit 1 (or 2 for usage), exactly
one ``Error:`` line that says what to do, and no file left behind.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from robustkit import one_error, write_dataset

from lsctl.cli.common import one_line


def _files(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


@pytest.fixture
def data(tmp_path) -> str:
    return write_dataset(str(tmp_path / "d.parquet"))


def test_output_naming_an_existing_directory(cli, tmp_path, data):
    (tmp_path / "out.parquet").mkdir()
    one_error(cli("keywords", data, "-o", tmp_path / "out.parquet"), 1, "is a directory")
    assert _files(tmp_path / "out.parquet") == []


def test_read_only_output_directory(cli, tmp_path, data, monkeypatch):
    # Permission bits do not bind root (CI containers), so the refusal the OS
    # would give is injected where the writer asks for its temporary file.
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    out = tmp_path / "ro" / "kw.parquet"
    one_error(cli("keywords", data, "-o", out), 1, "cannot write here", "Permission denied")
    assert not (tmp_path / "ro").exists()  # the directory made for it is removed again


def test_header_only_csv_with_an_id_column(cli, tmp_path):
    src = tmp_path / "h.csv"
    src.write_text("id,text,label\n")
    one_error(cli("data", "import", src, "-o", tmp_path / "h.parquet"), 1, "no data rows")
    assert _files(tmp_path) == ["h.csv"]


def test_kwls_without_a_text_column(cli, tmp_path):
    path = tmp_path / "notext.parquet"
    pq.write_table(pa.table({"id": [1, 2], "label": ["a", "b"]}), path)
    one_error(
        cli("softlabel", path, "-m", "kwls", "-o", tmp_path / "s.parquet"),
        1,
        "no column 'text'",
        "--text-col",
    )
    assert _files(tmp_path) == ["notext.parquet"]


def test_train_on_zero_rows(cli, tmp_path):
    path = tmp_path / "zero.parquet"
    empty = pa.array([], pa.string())
    pq.write_table(pa.table({"text": empty, "label": empty}), path)
    one_error(cli("train", path, "-o", tmp_path / "run", "-q"), 1, "no rows to train on")
    assert _files(tmp_path) == ["zero.parquet"]


def test_compare_ece_with_zero_bins_is_a_usage_error(cli, tmp_path):
    from lsctl.artifacts import make_meta, write_artifact
    from lsctl.evaluate.run import predictions_table

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 20)
    files = []
    for name in ("a", "b"):
        table, _ = predictions_table(np.arange(20), ["neg", "pos"], y, rng.normal(size=(20, 2)))
        files.append(tmp_path / f"{name}.parquet")
        write_artifact(table, str(files[-1]), make_meta("predictions", ["neg", "pos"], name=name))
    one_error(cli("compare", *files, "--metric", "ece", "--bins", "0"), 2, "--bins")


@pytest.mark.parametrize("command", ["keywords", "softlabel"])
def test_min_count_zero_is_one_rule_across_commands(cli, tmp_path, data, command):
    one_error(
        cli(command, data, "--min-count", "0", "-o", tmp_path / "o.parquet"), 2, "--min-count 0"
    )


def test_eval_with_truncated_weights(cli, tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
    from trainkit import write_dataset as train_data

    data = train_data(tmp_path / "t.parquet", n=60)
    run = tmp_path / "run"
    r = cli(
        "train", data, "-o", run, "--epochs", "1", "--dev-split", "0.2", "--embed-dim", "8", "-q"
    )
    assert r.exit_code == 0, r.stderr
    weights = next(run.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:100])
    out = tmp_path / "p.parquet"
    one_error(cli("eval", run, data, "-o", out), 1, "truncated or corrupt", weights.name)
    assert not out.exists()


def test_messages_are_folded_to_one_printable_line():
    assert one_line("row 3:\nunclosed quote\r\n\x1b[31mred") == "row 3: unclosed quote \\x1b[31mred"
    assert one_line("café ok") == "café ok"


def test_csv_with_an_unclosed_quote_is_one_line(cli, tmp_path):
    src = tmp_path / "q.csv"
    src.write_text('text,label\n"never closed,a\nmore,b\n')
    # The parser's message quotes the broken row, newline included.
    one_error(cli("data", "import", src, "-o", tmp_path / "q.parquet"), 1, "cannot parse as CSV")
    assert _files(tmp_path) == ["q.csv"]


def test_a_field_over_one_megabyte_imports(cli, tmp_path):
    # Arrow parses CSV in 1 MB blocks; a longer quoted field used to fail with
    # advice to raise a block size lsctl does not expose.
    src = tmp_path / "big.csv"
    long_text = "word " * 400_000  # 2 MB
    src.write_text(f'text,label\n"{long_text}",a\nshort,b\n')
    r = cli("data", "import", src, "-o", tmp_path / "big.parquet")
    assert r.exit_code == 0, r.stderr
    t = pq.read_table(tmp_path / "big.parquet")
    assert t.column("text").to_pylist() == [long_text, "short"]


def _command(args: list[str]):
    import typer

    from lsctl.cli.app import app

    cmd = typer.main.get_command(app)
    for word in args:
        if word.startswith("-"):
            break
        cmd = cmd.commands[word]
    return cmd


@pytest.mark.parametrize(
    "args",
    [
        ["keywords"],
        ["softlabel", "-m", "kwls"],
        ["softlabel", "-m", "tfidf"],
        ["data", "import"],
        ["train"],
        ["noise", "-k", "instance", "-r", "0.2"],
    ],
    ids=["keywords", "softlabel-kwls", "softlabel-tfidf", "import", "train", "noise-instance"],
)
@pytest.mark.parametrize("blank", ["", None, "   "])
def test_null_or_empty_text_is_one_rule_across_commands(cli, tmp_path, args, blank):
    path = tmp_path / "blank.parquet"
    pq.write_table(
        pa.table({"text": ["good film", blank, "bad one", "fine"], "label": ["p", "n", "p", "n"]}),
        path,
    )
    out = tmp_path / ("run" if args == ["train"] else "out.parquet")
    line = one_error(cli(*args, path, "-o", out), 1, "null or empty text", "row 1")
    # The fix named is one this command has: its own --drop-empty, or else the importer's.
    offers = any(p.opts == ["--drop-empty"] for p in _command(args).params)
    assert ("pass --drop-empty" in line) == offers
    assert ("lsctl data import FILE -o OUT.parquet --drop-empty" in line) == (not offers)
    assert _files(tmp_path) == ["blank.parquet"]


def test_a_text_without_word_tokens_is_a_warning_not_an_error(cli, tmp_path):
    # "!!!" is a text (no \w tokens): it gets the uniform vector with a warning.
    path = tmp_path / "punct.parquet"
    pq.write_table(pa.table({"text": ["good film", "!!!", "bad"], "label": ["p", "n", "p"]}), path)
    r = cli("softlabel", path, "-m", "kwls", "-o", tmp_path / "s.parquet")
    assert r.exit_code == 0, r.stderr
    assert "no tokens" in r.stderr
