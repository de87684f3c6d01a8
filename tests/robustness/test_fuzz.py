"""Property-based fuzzing of the data-facing commands (issue 13, Acceptance).

Random tables (odd column sets, types, nulls, control characters, quotes)
go through ``data import``; the imported artifacts through ``data info``,
``softlabel`` and ``noise``; and truncated or bit-flipped artifacts through
all of them. Every invocation must end with exit 0, or exit 1/2 with exactly
one ``Error:`` line, no traceback, no "unexpected" fallback message, and no
file left behind but the requested output. Examples are bounded so the file
runs in well under a minute on 2 cores (segfaults are covered, in a
subprocess, by test_corrupt_input.py).
"""

from __future__ import annotations

import json
import os
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lsctl.cli.app import app

RUNNER = CliRunner()
SETTINGS = settings(
    max_examples=int(os.environ.get("LSCTL_FUZZ_EXAMPLES", "100")),
    deadline=None,
    derandomize=os.environ.get("LSCTL_FUZZ_EXAMPLES") is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

cell_text = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["", " ", "a,b", 'say "hi"', "line\nbreak", "\x00\x1b[31m", "\ufeffé"]),
)
label_text = st.one_of(st.none(), st.sampled_from(["neg", "pos", "neu", "", "1", "é"]))


def invoke(*args: str, stdin: bytes | None = None):
    r = RUNNER.invoke(app, [str(a) for a in args], input=stdin)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in r.stderr, r.stderr
    if r.exit_code != 0:
        assert r.exit_code in (1, 2), (args, r.exit_code, r.stderr)
        errors = [ln for ln in lines if ln.startswith("Error:")]
        assert len(errors) == 1, (args, r.stderr)
        assert "unexpected" not in errors[0], (args, errors[0])
        assert all(c >= " " for c in errors[0]), (args, errors[0])
    return r


def only(directory: str, *allowed: str) -> None:
    left = set(os.listdir(directory)) - set(allowed)
    assert not left, left


@st.composite
def tables(draw) -> dict:
    n = draw(st.integers(0, 12))
    # Mostly the columns lsctl expects, so the later stages get exercised too.
    base = ["text", "label"] if draw(st.booleans()) or draw(st.booleans()) else []
    more = draw(st.lists(st.sampled_from(["id", "text", "label", "extra", "review"]), unique=True))
    cols = list(dict.fromkeys(base + more))
    table = {}
    for c in cols:
        if c == "label":
            table[c] = draw(st.lists(label_text, min_size=n, max_size=n))
        elif c == "id":
            table[c] = draw(
                st.one_of(
                    st.lists(st.integers(-3, 5), min_size=n, max_size=n),
                    st.lists(cell_text, min_size=n, max_size=n),
                )
            )
        else:
            table[c] = draw(st.lists(cell_text, min_size=n, max_size=n))
    return {"columns": table, "n": n, "fmt": draw(st.sampled_from(["csv", "jsonl", "parquet"]))}


def write_source(spec: dict, directory: str) -> str:
    cols, n = spec["columns"], spec["n"]
    path = os.path.join(directory, f"src.{spec['fmt']}")
    if spec["fmt"] == "parquet":
        pq.write_table(pa.table({k: pa.array(v) for k, v in cols.items()}) if cols else
                       pa.table({"x": pa.array([], pa.int64())}), path)  # fmt: skip
    elif spec["fmt"] == "jsonl":
        with open(path, "w", encoding="utf-8") as f:
            for i in range(n):
                f.write(json.dumps({k: v[i] for k, v in cols.items()}) + "\n")
    else:
        import csv

        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(list(cols))
            for i in range(n):
                w.writerow(["" if v[i] is None else v[i] for v in cols.values()])
    return path


@SETTINGS
@given(spec=tables(), method=st.sampled_from(["uniform", "kwls", "nls", "tfidf"]),
       kind=st.sampled_from(["symmetric", "pairflip", "instance"]),
       rate=st.sampled_from([0.0, 0.2, 0.5, 0.99, 1.0, -0.1]))  # fmt: skip
def test_random_tables_through_import_info_softlabel_noise(spec, method, kind, rate):
    with tempfile.TemporaryDirectory() as d:
        src = write_source(spec, d)
        data = os.path.join(d, "data.parquet")
        r = invoke("data", "import", src, "-o", data)
        if r.exit_code:
            only(d, os.path.basename(src))
            return
        invoke("data", "info", data)
        soft = os.path.join(d, "soft.parquet")
        extra = ["--rate", "0.1"] if method == "nls" else []
        r = invoke("softlabel", data, "-m", method, "-o", soft, *extra)
        noisy = os.path.join(d, "noisy.parquet")
        r2 = invoke("noise", data, "-o", noisy, "--kind", kind, "--rate", str(rate), "--seed", "1")
        made = ["soft.parquet"] * (r.exit_code == 0) + ["noisy.parquet"] * (r2.exit_code == 0)
        only(d, os.path.basename(src), "data.parquet", *made)


@SETTINGS
@given(
    ext=st.sampled_from([".parquet", ".arrows"]),
    cut=st.one_of(st.none(), st.floats(0, 1)),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 7)), max_size=4),
    command=st.sampled_from(["info", "info-stdin", "softlabel", "noise", "import"]),
)
def test_truncated_or_bit_flipped_artifacts(ext, cut, flips, command):
    from robustkit import write_dataset

    with tempfile.TemporaryDirectory() as d:
        good = write_dataset(os.path.join(d, f"good{ext}"), n=12)
        with open(good, "rb") as f:
            b = bytearray(f.read())
        os.unlink(good)
        if cut is not None:
            b = b[: int(cut * len(b))]
        for where, bit in flips:
            if b:
                b[min(int(where * len(b)), len(b) - 1)] ^= 1 << bit
        bad = os.path.join(d, f"bad{ext}")
        with open(bad, "wb") as f:
            f.write(bytes(b))
        out = os.path.join(d, "out.parquet")
        if command == "info":
            invoke("data", "info", bad)
        elif command == "info-stdin":
            invoke("data", "info", "-", stdin=bytes(b))
        elif command == "softlabel":
            invoke("softlabel", bad, "-m", "kwls", "-o", out)
        elif command == "noise":
            invoke("noise", bad, "-o", out, "--kind", "symmetric", "--rate", "0.2")
        else:
            invoke("data", "import", bad, "-o", out)
        only(d, f"bad{ext}", "out.parquet")
