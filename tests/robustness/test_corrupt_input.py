"""Corrupt and hostile artifacts: one ``Error:`` line and exit 1, never a crash (issue 13, item 12).

A bit-flipped Arrow stream used to kill the process (SIGSEGV/SIGBUS, exit 139,
nothing on stderr) because compute kernels trusted its offsets. The crash is
only observable from outside the process, so the corruption sweep runs in a
subprocess that drives the CLI in-process (one interpreter start, many cases).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pyarrow.parquet as pq
import pytest
from robustkit import dataset_table, one_error, write_dataset

SWEEP = textwrap.dedent(
    """
    import json, os, random, sys
    from typer.testing import CliRunner
    from lsctl.cli.app import app

    src, workdir, seeds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = open(src, "rb").read()
    runner = CliRunner()
    bad = []
    for seed in range(seeds):
        rng = random.Random(seed)
        b = bytearray(data)
        if seed % 4 == 3:
            b = b[: rng.randrange(len(b))]
        else:
            for _ in range(rng.randint(1, 4)):
                i = rng.randrange(len(b))
                b[i] ^= 1 << rng.randrange(8)
        path = os.path.join(workdir, "c" + os.path.splitext(src)[1])
        open(path, "wb").write(bytes(b))
        out = os.path.join(workdir, "out.parquet")
        for args, stdin in (
            (["data", "info", path], None),
            (["data", "info", "-"], bytes(b)),
            (["keywords", path, "-o", out], None),
            (["data", "import", path, "-o", out], None),
        ):
            print(seed, args[:2], file=sys.stderr, flush=True)
            r = runner.invoke(app, args, input=stdin)
            lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
            ok = r.exit_code == 0 or (
                r.exit_code == 1 and len(lines) == 1 and lines[0].startswith("Error:")
                and "unexpected" not in lines[0]
            )
            if not ok:
                bad.append([seed, args[:2], r.exit_code, r.stderr[-300:]])
            if os.path.exists(out):
                os.unlink(out)
    print(json.dumps(bad))
    """
)


@pytest.mark.parametrize("ext", [".arrows", ".parquet"])
def test_bit_flipped_or_truncated_artifacts_never_crash(tmp_path, ext):
    src = write_dataset(str(tmp_path / f"d{ext}"))
    work = tmp_path / "work"
    work.mkdir()
    p = subprocess.run(
        [sys.executable, "-c", SWEEP, src, str(work), "24"],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env={**os.environ, "COLUMNS": "100"},
        timeout=120,
    )
    # A negative return code is the signal that killed the interpreter.
    assert p.returncode == 0, (p.returncode, p.stderr[-500:])
    bad = json.loads(p.stdout.strip().splitlines()[-1])
    assert bad == [], bad[:3]
    assert sorted(os.listdir(work)) == [f"c{ext}"]  # no output, no temporary file


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b'["dataset", 1]', "JSON list, expected an object"),
        (b'{"kind": "dataset", "labels": ["\xff\xfe"]}', "not UTF-8"),
    ],
)
def test_foreign_lsctl_metadata_is_one_designed_error(tmp_path, cli, raw, needle):
    path = str(tmp_path / "m.parquet")
    pq.write_table(dataset_table(5).replace_schema_metadata({b"lsctl": raw}), path)
    one_error(cli("data", "info", path), 1, needle)
