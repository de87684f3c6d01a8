"""Small datasets and assertions shared by the robustness tests (issue 13, items 12–19)."""

from __future__ import annotations

import random

import pyarrow as pa

from lsctl.artifacts import make_meta, write_artifact

WORDS = ["good", "bad", "fine", "awful", "great", "terrible", "ok", "nice", "poor"]


def dataset_table(n: int = 60) -> pa.Table:
    rng = random.Random(0)
    return pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "text": [" ".join(rng.choices(WORDS, k=6)) for _ in range(n)],
            "label": [rng.choice(["neg", "neu", "pos"]) for _ in range(n)],
        }
    )


def write_dataset(path: str, n: int = 60) -> str:
    write_artifact(dataset_table(n), path, make_meta("dataset", ["neg", "neu", "pos"]))
    return path


def one_error(r, code: int = 1, *needles: str) -> str:
    """Assert exit ``code`` and exactly one ``Error:`` line on stderr; return it."""
    assert r.exit_code == code, (r.exit_code, r.stderr)
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), r.stderr
    assert "Traceback" not in r.stderr and "unexpected" not in lines[0], lines[0]
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]
