"""`lsctl data info`, checked against plain-Python and NumPy recomputations."""

from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lsctl.artifacts import make_meta, write_artifact
from lsctl.data.info import dataset_info, noise_info

TEXTS = [
    "The film was great!",
    "  ",
    "The film was great!",
    "bad",
    "ça marche très bien — 10/10",
    "bad",
    None,
    "don't",
]
LABELS = ["pos", "neg", "neg", "neg", "pos", "neg", "pos", "mid"]


def _table():
    return pa.table({"text": pa.array(TEXTS, pa.string()), "label": LABELS})


def test_info_matches_python_recount():
    labels = ["mid", "neg", "pos", "unused"]
    got = dataset_info(_table(), labels, "t")
    counts = Counter(LABELS)
    assert [c["count"] for c in got["classes"]] == [counts[x] for x in labels]
    np.testing.assert_allclose(
        [c["share"] for c in got["classes"]], [counts[x] / 8 for x in labels]
    )
    assert got["missing_classes"] == ["unused"]
    present = [t for t in TEXTS if t is not None]
    assert got["null_texts"] == 1
    assert got["empty_texts"] == sum(t is None or not t.strip() for t in TEXTS) == 2
    assert got["duplicate_texts"] == len(present) - len(set(present)) == 2
    # "The film was great!" carries pos and neg; "bad" only neg.
    assert got["conflicting_duplicates"] == 1
    chars = np.array([len(t) for t in present], float)
    tokens = np.array([len(re.findall(r"\w+", t)) for t in present], float)
    for key, ref in (("length_chars", chars), ("length_tokens", tokens)):
        q = got[key]
        assert q["min"] == ref.min() and q["max"] == ref.max()
        assert q["p50"] == np.median(ref)
        assert q["p25"] == np.quantile(ref, 0.25)
        assert q["mean"] == ref.mean()
    assert "noise" not in got


def test_noise_info_hand_worked():
    labels = ["a", "b", "c"]
    clean = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    noisy = np.array([0, 1, 2, 0, 1, 0, 2, 2, 2, 2])
    got = noise_info(noisy, clean, labels)
    assert got["rate"] == 3 / 10 and got["flipped"] == 3
    a, b, c = got["per_class"]
    assert (a["clean_count"], a["flipped"], a["rate"], a["to"]) == (4, 2, 0.5, {"b": 1, "c": 1})
    assert (b["clean_count"], b["flipped"], b["rate"], b["to"]) == (2, 1, 0.5, {"a": 1})
    assert (c["clean_count"], c["flipped"], c["rate"], c["to"]) == (4, 0, 0.0, {})


def test_info_cli_with_clean_label(tmp_path, cli):
    t = pa.table(
        {
            "text": ["x y", "z", "w", "v", "u"],
            "label": ["b", "b", "a", "a", "b"],
            "clean_label": ["a", "b", "a", "b", "b"],
        }
    )
    path = tmp_path / "n.parquet"
    write_artifact(t, str(path), make_meta("dataset", ["a", "b"]))
    r = cli("data", "info", path, "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["noise"]["rate"] == 2 / 5
    assert [p["flipped"] for p in out["noise"]["per_class"]] == [1, 1]
    r = cli("data", "info", path)
    assert r.exit_code == 0 and r.stdout == ""
    assert "realized noise rate: 0.4000" in r.stderr and "flip rate" in r.stderr
    # Where each clean class's labels went: a → b once (row 1), b → a once (row 4).
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in r.stderr.splitlines()]
    rows = {c[0]: c for c in cells if c and c[0] in ("a", "b")}
    assert rows["a"][-1] == "b 1" and rows["b"][-1] == "a 1", r.stderr


def test_flipped_to_lists_the_largest_first_and_counts_the_rest():
    from lsctl.cli.data import _flipped_to

    assert _flipped_to({}) == "—"
    assert _flipped_to({"b": 2, "c": 9, "d": 1, "e": 4}) == "c 9, e 4, b 2, +1 more"


def test_info_keeps_stamped_label_order(tmp_path, cli):
    path = tmp_path / "o.parquet"
    write_artifact(
        pa.table({"text": ["p", "q"], "label": ["z", "a"]}),
        str(path),
        make_meta("dataset", ["z", "a", "m"]),
    )
    out = json.loads(cli("data", "info", path, "--json").stdout)
    assert out["labels"] == ["z", "a", "m"] and out["missing_classes"] == ["m"]


def test_info_label_outside_stamped_list(tmp_path, cli):
    path = tmp_path / "o.parquet"
    write_artifact(
        pa.table({"text": ["p", "q"], "label": ["z", "q"]}), str(path), make_meta("dataset", ["z"])
    )
    r = cli("data", "info", path)
    assert r.exit_code == 1
    assert r.stderr.startswith("Error:") and "'q' is not in the artifact's label list" in r.stderr


def test_info_without_label_column(tmp_path, cli):
    path = tmp_path / "o.parquet"
    pq.write_table(pa.table({"text": ["p"]}), path)
    r = cli("data", "info", path)
    assert r.exit_code == 1 and r.stderr.startswith("Error:") and "no column 'label'" in r.stderr


def test_an_artifact_that_is_not_data_says_what_it_is(tmp_path, cli):
    path = tmp_path / "cmp.parquet"
    rows = pa.table({"system": ["a"], "baseline": ["b"], "delta": [0.1]})
    write_artifact(rows, str(path), make_meta("comparison", ["x", "y"]))
    r = cli("data", "info", path)
    assert r.exit_code == 1
    assert "no column 'label'" in r.stderr
    assert "it is a comparison artifact, from lsctl compare" in r.stderr
    # Plain Parquet without lsctl metadata: only the missing column.
    pq.write_table(rows, tmp_path / "plain.parquet")
    r = cli("data", "info", tmp_path / "plain.parquet")
    assert r.exit_code == 1 and "artifact, from" not in r.stderr
