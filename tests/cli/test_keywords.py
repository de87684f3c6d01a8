"""`lsctl keywords`: the table against hand counts, its metadata, --top, bad input."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

DOCS = ["a b a", "b c", "c c d"]
GOLD = ["pos", "neg", "neg"]


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": DOCS, "label": GOLD}), path)
    return path


def _error_line(r) -> str:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
    return lines[0]


def test_table_by_hand(cli, data, tmp_path):
    out = tmp_path / "kw.parquet"
    r = cli("keywords", data, "-o", out, "--tokenizer", "whitespace", "-q")
    assert r.exit_code == 0, r.stderr
    t = pq.read_table(out)
    assert t.column_names == ["word", "label", "count", "wlc", "wlw", "wlr", "rank", "df"]
    rows = {(r["word"], r["label"]): r for r in t.to_pylist()}
    assert set(rows) == {("a", "pos"), ("b", "pos"), ("b", "neg"), ("c", "neg"), ("d", "neg")}
    # S_pos = 3, S_neg = 5, S_avg = 4, p = 2.
    norm = {"pos": 1 - 0.75 + 0.75 * 3 / 4, "neg": 1 - 0.75 + 0.75 * 5 / 4}
    counts = {("a", "pos"): 2, ("b", "pos"): 1, ("b", "neg"): 1, ("c", "neg"): 3, ("d", "neg"): 1}
    n_classes = Counter(w for w, _ in counts)
    df = {"a": 1, "b": 2, "c": 2, "d": 1}
    for (w, m), f in counts.items():
        row = rows[(w, m)]
        wlc = f * 2 / (f + 2 * norm[m])
        wlw = math.log(2 / n_classes[w]) + 1
        assert row["count"] == f
        assert row["df"] == df[w]
        assert row["wlc"] == pytest.approx(wlc, rel=1e-12)
        assert row["wlw"] == pytest.approx(wlw, rel=1e-12)
        assert row["wlr"] == pytest.approx(wlw * wlc, rel=1e-12)
    # Rank 1 is the largest WLR within each label.
    for m in ("pos", "neg"):
        mine = sorted((r for r in rows.values() if r["label"] == m), key=lambda r: r["rank"])
        assert [r["rank"] for r in mine] == list(range(1, len(mine) + 1))
        assert all(a["wlr"] >= b["wlr"] for a, b in itertools.pairwise(mine))
    meta = json.loads(pq.read_schema(out).metadata[b"lsctl"])
    assert meta["kind"] == "keywords"
    assert meta["labels"] == ["neg", "pos"]
    assert meta["params"]["k1"] == 2.0 and meta["params"]["b"] == 0.75
    assert meta["params"]["tokenizer"]["name"] == "whitespace"
    assert meta["stats"] == {
        "n_docs": 3,
        "n_tokens": 8.0,
        "x_avg": 8 / 3,
        "class_tokens": {"neg": 5.0, "pos": 3.0},
    }


def test_top_json_and_min_count(cli, data, tmp_path):
    r = cli("keywords", data, "--top", "1", "--json", "--min-count", "2")
    assert r.exit_code == 0, r.stderr
    s = json.loads(r.stdout)
    # min-count 2 keeps a (2), b (2), c (3); d (1) is dropped.
    assert s["rows"] == 4
    assert [t["word"] for t in s["top"]["pos"]] == ["a"]
    assert [t["word"] for t in s["top"]["neg"]] == ["c"]
    assert s["n_docs"] == 3
    # The vocabulary reported is the table's (a, b, c), of the four words seen.
    assert (s["vocab_size"], s["words_seen"]) == (3, 4)
    r = cli("keywords", data, "--top", "0", "--min-count", "2")
    assert "3 words (of 4 seen; --min-count 2)" in " ".join(r.stderr.split())
    s = json.loads(cli("keywords", data, "--json").stdout)
    assert (s["vocab_size"], s["words_seen"]) == (4, 4)


def test_top_table_on_stderr(cli, data):
    r = cli("keywords", data, "--top", "2")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert "top keywords" in r.stderr and "pos" in r.stderr


def test_stopwords_and_lowercase(cli, tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["The Cat", "the dog"], "label": ["x", "y"]}), path)
    r = cli("keywords", path, "--stopwords", "english", "--no-lowercase", "--json")
    assert r.exit_code == 0, r.stderr
    words = {t["word"] for v in json.loads(r.stdout)["top"].values() for t in v}
    assert words == {"Cat", "dog"}


@pytest.mark.parametrize(
    ("args", "match"),
    [(["--k1", "0"], "--k1"), (["--b", "2"], "--b"), (["--min-count", "0"], "--min-count")],
)
def test_bad_options(cli, data, tmp_path, args, match):
    r = cli("keywords", data, "-o", tmp_path / "kw.parquet", *args)
    assert r.exit_code == 2  # option values: usage errors
    assert match in _error_line(r)


def test_no_label_column(cli, tmp_path):
    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({"text": ["a"]}), path)
    r = cli("keywords", path)
    assert r.exit_code == 1
    assert "no column 'label'" in _error_line(r)
