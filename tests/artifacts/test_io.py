"""The artifacts layer: formats, metadata stamps, pipes, atomic and safe writes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from lsctl import __version__
from lsctl.artifacts import (
    SCHEMA_VERSION,
    check_output,
    make_meta,
    open_artifact,
    prob_array,
    prob_matrix,
    read_artifact,
    sniff,
    write_artifact,
)
from lsctl.errors import LsctlError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _table() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([10, 11, 12], pa.int64()),
            "text": ["a good film", "bad", "fine, I guess"],
            "label": ["pos", "neg", "pos"],
            "soft_label": prob_array(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])),
        }
    )


def _err(r, code: int, *needles: str) -> None:
    assert r.exit_code == code, (r.exit_code, r.stderr)
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.mark.parametrize(
    ("name", "format"),
    [
        ("x.parquet", "parquet"),
        ("x.arrows", "arrow-stream"),
        ("x.arrow", "arrow-file"),  # the random-access file format other tools open as .arrow
        ("x.feather", "arrow-file"),
    ],
)
def test_round_trip_keeps_data_and_stamp(tmp_path, name, format):
    path = str(tmp_path / name)
    table = _table()
    meta = make_meta(
        "softlabels", ["neg", "pos"], {"method": "kwls"}, [{"path": "in", "sha256": "0"}]
    )
    fmt = write_artifact(table, path, meta)
    assert fmt == format
    with open(path, "rb") as f:
        assert sniff(f.read(8)) == fmt
    back, reader = read_artifact(path)
    assert back.drop_columns([]).to_pylist() == table.to_pylist()
    assert back.schema.field("soft_label").type == pa.list_(pa.float32(), 2)
    assert reader.meta == meta
    assert reader.kind == "softlabels" and reader.labels == ["neg", "pos"]
    np.testing.assert_allclose(
        prob_matrix(back.column("soft_label"), 2, "x", "soft_label"),
        [[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]],
        rtol=1e-6,
    )


def test_metadata_stamp_fields(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    src = tmp_path / "in.bin"
    src.write_bytes(b"hello")
    meta = make_meta("dataset", ["a", "b"], {"seed": np.int64(3)}, [{"path": str(src)}])
    path = tmp_path / "m.parquet"
    write_artifact(pa.table({"text": ["x"], "label": ["a"]}), str(path), meta)
    raw = json.loads(pq.read_schema(path).metadata[b"lsctl"])
    assert raw["kind"] == "dataset"
    assert raw["schema_version"] == SCHEMA_VERSION
    assert raw["labels"] == ["a", "b"]
    assert raw["params"] == {"seed": 3}  # numpy scalars become JSON numbers
    assert raw["lsctl_version"] == __version__
    assert raw["created_at"] == "1970-01-02T00:00:00+00:00"
    with pytest.raises(ValueError):
        make_meta("nonsense", None)


def test_input_record_is_the_file_hash(tmp_path):
    path = tmp_path / "x.parquet"
    write_artifact(_table(), str(path), make_meta("dataset", ["neg", "pos"]))
    rec = open_artifact(str(path)).input_record()
    assert rec == {
        "path": str(path.resolve()),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def test_plain_pandas_style_parquet_is_accepted(tmp_path, cli):
    path = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"text": ["one two", "three"], "label": ["b", "a"]}), path)
    reader = open_artifact(str(path))
    assert reader.meta is None and reader.kind is None and reader.labels is None
    r = cli("data", "info", path, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["labels"] == ["a", "b"]  # inferred: sorted names


def test_newer_schema_version_is_rejected(tmp_path, cli):
    path = tmp_path / "new.parquet"
    meta = {**make_meta("dataset", ["a"]), "schema_version": SCHEMA_VERSION + 1}
    t = pa.table({"text": ["x"], "label": ["a"]})
    pq.write_table(t.replace_schema_metadata({b"lsctl": json.dumps(meta).encode()}), path)
    with pytest.raises(LsctlError, match="newer lsctl"):
        open_artifact(str(path))
    _err(cli("data", "info", path), 1, "newer lsctl", "upgrade")


def test_failed_write_leaves_no_temp_file_and_keeps_old(tmp_path, monkeypatch):
    path = tmp_path / "out.parquet"
    path.write_bytes(b"old")

    class Boom(Exception):
        pass

    def explode(self, table, *args, **kw):
        # Die half-way through, as a crash or Ctrl-C would: the first row group
        # is on disk in the temporary file, the rest never comes.
        original(self, table.slice(0, 1))
        raise Boom

    original = pq.ParquetWriter.write_table
    monkeypatch.setattr(pq.ParquetWriter, "write_table", explode)
    with pytest.raises(Boom):
        write_artifact(_table(), str(path), make_meta("dataset", ["neg", "pos"]))
    assert sorted(os.listdir(tmp_path)) == ["out.parquet"]
    assert path.read_bytes() == b"old"


def test_overwriting_an_input_is_refused(tmp_path, cli):
    path = tmp_path / "d.parquet"
    write_artifact(_table(), str(path), make_meta("dataset", ["neg", "pos"]))
    before = path.read_bytes()
    with pytest.raises(LsctlError, match="refusing to overwrite an input"):
        check_output(str(path), [str(path)])
    r = cli("data", "sample", path, "-o", path, "--cap", "pos=1")
    _err(r, 1, "refusing to overwrite an input")
    assert path.read_bytes() == before


def test_refuses_binary_to_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    with pytest.raises(LsctlError, match="terminal"):
        write_artifact(_table(), "-", make_meta("dataset", ["neg", "pos"]))
    with pytest.raises(LsctlError, match="terminal"):
        check_output("-")


def test_refuses_binary_to_a_terminal_cli(tmp_path):
    # A real terminal on stdout: a pseudo-terminal from the pty module.
    pty = pytest.importorskip("pty")
    src = tmp_path / "d.csv"
    src.write_text("text,label\nhi,a\n")
    leader, follower = pty.openpty()
    try:
        r = subprocess.run(
            [sys.executable, "-m", "lsctl", "data", "import", str(src), "-o", "-"],
            stdout=follower,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": REPO},
            timeout=60,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert r.returncode == 1
    lines = r.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), lines
    assert "terminal" in lines[0] and "-o FILE.parquet" in lines[0]


def test_truncated_parquet(tmp_path, cli):
    good = tmp_path / "good.parquet"
    write_artifact(_table(), str(good), make_meta("dataset", ["neg", "pos"]))
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(LsctlError, match="truncated or corrupt"):
        open_artifact(str(cut))
    _err(cli("data", "info", cut), 1, "cut.parquet", "truncated or corrupt")


def test_truncated_arrow_stream(tmp_path):
    good = tmp_path / "good.arrows"
    big = pa.table({"text": ["w"] * 5000, "label": ["a", "b"] * 2500})
    write_artifact(big, str(good), make_meta("dataset", ["a", "b"]))
    cut = tmp_path / "cut.arrows"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size - 100])
    with pytest.raises(LsctlError, match="truncated or corrupt"):
        read_artifact(str(cut))


def test_not_an_artifact_points_to_import(tmp_path, cli):
    path = tmp_path / "d.csv"
    path.write_text("text,label\nx,a\n")
    _err(cli("data", "info", path), 1, "not a Parquet or Arrow file", f"lsctl data import {path}")
    # Under a .parquet name, `data import` would fail the same way: it says to rename.
    misnamed = tmp_path / "d.parquet"
    misnamed.write_text("text,label\nx,a\n")
    r = cli("data", "info", misnamed)
    _err(r, 1, "give it that extension", "lsctl data import FILE.csv")
    assert f"data import {misnamed}" not in r.stderr


def test_stdin_stream_hash_matches_bytes(tmp_path, monkeypatch):
    # A piped artifact's input record hashes exactly the bytes that came in.
    buf = pa.BufferOutputStream()
    t = _table()
    with ipc.new_stream(buf, t.schema) as w:
        w.write_table(t)
    data = buf.getvalue().to_pybytes()
    r, w_fd = os.pipe()
    os.write(w_fd, data)
    os.close(w_fd)

    class Stdin:
        buffer = os.fdopen(r, "rb")

    monkeypatch.setattr(sys, "stdin", Stdin())
    table, reader = read_artifact("-")
    assert table.num_rows == 3
    assert reader.input_record() == {"path": "-", "sha256": hashlib.sha256(data).hexdigest()}


def _sh(cmd: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": REPO}
    return subprocess.run(cmd, shell=True, cwd=cwd, env=env, capture_output=True, timeout=120)


def test_pipe_import_to_info_through_subprocesses(tmp_path):
    (tmp_path / "d.csv").write_text("text,label\nthe cat,b\na dog,a\nthe end,b\n")
    py = sys.executable
    r = _sh(
        f"{py} -m lsctl data import d.csv -o - | {py} -m lsctl data info - --json",
        tmp_path,
    )
    assert r.returncode == 0, r.stderr.decode()
    out = json.loads(r.stdout)
    assert out["format"] == "arrow-stream" and out["rows"] == 3
    assert [c["count"] for c in out["classes"]] == [1, 2]


def test_pipe_parquet_through_stdin(tmp_path):
    # `cat x.parquet | lsctl data split - …` from the acceptance list.
    path = tmp_path / "x.parquet"
    t = pa.table({"text": [f"t{i}" for i in range(20)], "label": ["a", "b"] * 10})
    write_artifact(t, str(path), make_meta("dataset", ["a", "b"]))
    py = sys.executable
    r = _sh(f"cat x.parquet | {py} -m lsctl data split - -o sp --dev 0 --test 0.2", tmp_path)
    assert r.returncode == 0, r.stderr.decode()
    assert sorted(os.listdir(tmp_path / "sp")) == ["test.parquet", "train.parquet"]
    assert pq.read_metadata(tmp_path / "sp" / "test.parquet").num_rows == 4
    meta = json.loads(pq.read_schema(tmp_path / "sp" / "test.parquet").metadata[b"lsctl"])
    assert meta["inputs"][0]["path"] == "-"
    assert meta["inputs"][0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def _batches(n: int, rows: int = 5):
    for i in range(n):
        yield pa.record_batch({"id": pa.array(range(i * rows, (i + 1) * rows), pa.int64())})


@pytest.mark.parametrize("name", ["out.parquet", "out.arrows"])
def test_write_batches_keeps_every_batch_in_order(tmp_path, name):
    """Batches are written on a second thread; the file still holds all of them, in order."""
    from lsctl.artifacts import write_batches

    out = tmp_path / name
    write_batches(_batches(7), str(out), make_meta("dataset", ["a"]))
    table = open_artifact(str(out)).read()
    assert table.column("id").to_pylist() == list(range(35))


def test_write_batches_producer_error_leaves_no_file(tmp_path):
    """An error while making batch 3 reaches the caller, and no file (or temp file) is left."""
    from lsctl.artifacts import write_batches

    def failing():
        yield from _batches(2)
        raise LsctlError("bad row 11")

    with pytest.raises(LsctlError, match="bad row 11"):
        write_batches(failing(), str(tmp_path / "out.parquet"), make_meta("dataset", ["a"]))
    assert os.listdir(tmp_path) == []


def test_write_batches_writer_error_reaches_the_caller(tmp_path):
    """A batch the writer refuses (here: another schema) fails the call in the caller's thread."""
    from lsctl.artifacts import write_batches

    def mixed():
        yield from _batches(2)
        yield pa.record_batch({"other": pa.array(["x"])})
        yield from _batches(50)  # the caller is not left blocked behind a dead writer

    with pytest.raises(ValueError, match="schema"):
        write_batches(mixed(), str(tmp_path / "out.parquet"), make_meta("dataset", ["a"]))
    assert os.listdir(tmp_path) == []


def test_parquet_text_is_not_dictionary_encoded_but_labels_are(tmp_path):
    """Free text skips the writer's dictionary attempt; short repeated columns keep it."""
    out = tmp_path / "x.parquet"
    write_artifact(_table(), str(out), make_meta("dataset", ["neg", "pos"]))
    rg = pq.ParquetFile(out).metadata.row_group(0)
    enc = {rg.column(i).path_in_schema: rg.column(i).encodings for i in range(rg.num_columns)}
    assert not any("DICTIONARY" in e for e in enc["text"]), enc["text"]
    assert any("DICTIONARY" in e for e in enc["label"]), enc["label"]
    assert read_artifact(str(out))[0].column("text").to_pylist() == _table()["text"].to_pylist()
