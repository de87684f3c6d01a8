"""Broken pipes, interrupted splits and a loss that runs away while finite (issue 13, item 19)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from robustkit import one_error, write_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
import trainkit


def test_a_reader_that_goes_away_is_a_failure_with_no_success_line(tmp_path):
    src = tmp_path / "big.csv"
    with open(src, "w") as f:
        f.write("text,label\n")
        for i in range(20_000):
            f.write(f"some words for row number {i},{'ab'[i % 2]}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lsctl", "data", "import", str(src), "-o", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert len(proc.stdout.read(100)) == 100  # `| head -c 100`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert proc.returncode in (1, 141), (proc.returncode, err)
    assert "wrote" not in err and "Traceback" not in err


def test_an_interrupted_split_leaves_no_split_behind(cli, tmp_path, monkeypatch):
    import lsctl.artifacts as artifacts

    data = write_dataset(str(tmp_path / "d.parquet"))
    real = artifacts.write_artifact
    calls = []

    def interrupted_on_second(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(artifacts, "write_artifact", interrupted_on_second)
    r = cli("data", "split", data, "-o", tmp_path / "splits", "--dev", "0.2", "--test", "0.2")
    assert r.exit_code == 130, r.stderr
    assert len(calls) == 2  # train was fully written before the interrupt
    assert not (tmp_path / "splits").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.parquet"]


def test_an_existing_split_directory_keeps_its_files_when_interrupted(cli, tmp_path, monkeypatch):
    import lsctl.artifacts as artifacts

    data = write_dataset(str(tmp_path / "d.parquet"))
    (tmp_path / "splits").mkdir()
    (tmp_path / "splits" / "notes.txt").write_text("mine")
    monkeypatch.setattr(
        artifacts, "write_artifact", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    r = cli("data", "split", data, "-o", tmp_path / "splits")
    assert r.exit_code == 130
    assert sorted(p.name for p in (tmp_path / "splits").iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("loss", ["aux", "soft"])
def test_a_loss_growing_100x_stops_training(cli, tmp_path, loss):
    _, gold = trainkit.make_texts(200, 0)
    data = trainkit.write_dataset(
        tmp_path / "soft.parquet", n=200, soft=trainkit.uniform_by_hand(gold, 0.1)
    )
    run = tmp_path / "run"
    r = cli("train", data, "-o", run, "--loss", loss, "--lr", "100", "--epochs", "2",
            "--dev-split", "0.2", "-q")  # fmt: skip
    line = one_error(r, 1, "training diverged", "lower --lr")
    assert "grew to" in line or "became" in line
    assert not list(run.glob("*.safetensors"))


NOISE_STDIN = ("noise", "-", "-k", "symmetric", "-r", "0.1", "-o")  # noise from stdin to -o


def _lsctl(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "lsctl", *map(str, args)],
        input=stdin,
        capture_output=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def test_a_stream_cut_short_upstream_fails_the_next_command(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    # 5,000 rows stream out in batches; the blank text in the last batch makes
    # softlabel (scoring with fitted keywords, one pass) fail after earlier
    # batches went down the pipe.
    data = tmp_path / "d.parquet"
    base = write_dataset(str(tmp_path / "base.parquet"), n=5000)
    assert _lsctl("keywords", base, "-o", tmp_path / "kw.parquet").returncode == 0
    t = pq.read_table(base)
    texts = t.column("text").to_pylist()
    texts[4999] = ""
    pq.write_table(t.set_column(t.schema.get_field_index("text"), "text", pa.array(texts)), data)
    up = _lsctl("softlabel", data, "--keywords", tmp_path / "kw.parquet", "-o", "-", "-q")
    assert up.returncode == 1, up.stderr
    assert up.stdout.startswith(b"\xff\xff\xff\xff")  # some rows were written
    assert not up.stdout.endswith(b"\xff\xff\xff\xff\x00\x00\x00\x00")  # but no end marker
    down = _lsctl(*NOISE_STDIN, tmp_path / "n.parquet", stdin=up.stdout)
    assert down.returncode == 1
    assert b"ends before its end marker" in down.stderr and b"Traceback" not in down.stderr
    assert not (tmp_path / "n.parquet").exists()
    # The same bytes saved as a file are refused too.
    cut = tmp_path / "cut.arrows"
    cut.write_bytes(up.stdout)
    assert b"ends before its end marker" in _lsctl("data", "info", cut).stderr
    # A complete stream goes through.
    whole = _lsctl(
        "softlabel",
        write_dataset(str(tmp_path / "ok.parquet"), n=5000),
        "--method",
        "uniform",
        "-o",
        "-",
        "-q",
    )
    assert whole.returncode == 0 and whole.stdout.endswith(b"\xff\xff\xff\xff\x00\x00\x00\x00")
    ok = _lsctl(
        *NOISE_STDIN,
        tmp_path / "n.parquet",
        stdin=whole.stdout,
    )
    assert ok.returncode == 0, ok.stderr
    assert pq.read_table(tmp_path / "n.parquet").num_rows == 5000


def test_a_foreign_stream_without_lsctl_metadata_may_end_by_closing(tmp_path):
    import pyarrow as pa
    import pyarrow.ipc as ipc

    sink = pa.BufferOutputStream()
    w = ipc.new_stream(sink, pa.schema([("text", pa.string()), ("label", pa.string())]))
    w.write_batch(
        pa.record_batch([pa.array(["a b", "c"]), pa.array(["x", "y"])], names=["text", "label"])
    )
    body = sink.getvalue().to_pybytes()  # no close(): no end marker, as the format allows
    r = _lsctl("data", "info", "-", "--json", stdin=body)
    assert r.returncode == 0, r.stderr


def test_the_file_redirected_to_stdin_is_not_overwritten(tmp_path):
    data = write_dataset(str(tmp_path / "d.parquet"))
    before = Path(data).read_bytes()
    with open(data, "rb") as f:
        r = subprocess.run(
            [sys.executable, "-m", "lsctl", *NOISE_STDIN, data],
            stdin=f,
            capture_output=True,
        )
    assert r.returncode == 1 and b"refusing to overwrite the file given on stdin" in r.stderr
    assert Path(data).read_bytes() == before


def test_stdin_on_a_terminal_is_refused_not_waited_on(monkeypatch):
    from lsctl.artifacts.io import open_artifact
    from lsctl.errors import LsctlError

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    with pytest.raises(LsctlError, match="stdin is a terminal"):
        open_artifact("-")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_is_one_clear_line(tmp_path):
    data = write_dataset(str(tmp_path / "d.parquet"))
    with open("/dev/full", "wb") as full:
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "lsctl",
                "noise",
                data,
                "-k",
                "symmetric",
                "-r",
                "0.1",
                "-o",
                "-",
            ],
            stdout=full,
            stderr=subprocess.PIPE,
        )
    assert r.returncode == 1
    assert r.stderr.decode().strip() == (
        "Error: cannot write: No space left on device; free space or choose another output"
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "-", "--dev", "-", "-o", "{out}"], "--dev -: TRAIN already reads stdin"),
        (
            ["softlabel", "-", "-m", "kwls", "--keywords", "-", "-o", "{out}.parquet"],
            "--keywords -: DATA",
        ),
        (
            ["softlabel", "-", "-m", "distill", "--teacher", "-", "-o", "{out}.parquet"],
            "--teacher -: DATA",
        ),
        (
            [
                "softlabel",
                "-",
                "-m",
                "distill",
                "--teacher",
                "-,{run}.parquet",
                "-o",
                "{out}.parquet",
            ],
            "--teacher -: DATA",
        ),
        (["eval", "{run}", "-", "--calibrate", "-"], "--calibrate -: DATA already reads stdin"),
        (
            ["retrieve", "bm25", "--questions", "-", "--sentences", "-", "-o", "{out}.parquet"],
            "--sentences -: --questions already reads stdin",
        ),
    ],
)
def test_a_second_input_on_stdin_is_refused_before_anything_is_read(cli, tmp_path, args, needle):
    # A pipe carries one artifact; the second reader would find stdin drained
    # and blame the pipe ("stdin is empty").
    data = write_dataset(str(tmp_path / "d.parquet"))
    out = tmp_path / "out"
    args = [a.format(out=out, run=tmp_path / "run") for a in args]
    r = cli(*args, input=Path(data).read_bytes())
    one_error(r, 2, needle, "give this one as a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.parquet"]
