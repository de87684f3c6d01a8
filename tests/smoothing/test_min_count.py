"""`softlabel --min-count` and `--keywords` with parameter overrides, against the plain reference.

docs/softlabel.md: words seen fewer than N times over the fitting set get no
WLR but keep their place in S_m, X_avg and the lengths; with ``--keywords``
the tokenizer is the artifact's (a different one is refused), k1 and b
default to the artifact's and may be overridden.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from kwls_plain import soft_labels

from lsctl.text.tokenize import TokenizerSpec, tokenize

TEXTS = [
    "great fun movie, great cast",
    "terrible plot and bad acting",
    "great acting, a great plot",
    "bad bad movie, dull cast",
    "an okay film, neither great nor bad",
    "fun fun fun, the best movie",
    "worst film ever, bad plot",
    "the plot was fine, okay acting",
    "dull and bad, a waste",
    "a fine okay film",
    "superb cast, great fun",
    "fine plot, okay movie",
]
GOLD = ["pos", "neg", "pos", "neg", "neu", "pos", "neg", "neu", "neg", "neu", "pos", "neu"]
LABELS = ["neg", "neu", "pos"]


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"text": TEXTS, "label": GOLD}), path)
    return path


def _tokens():
    return tokenize(TEXTS, TokenizerSpec())


def _soft(path) -> np.ndarray:
    return np.array(pq.read_table(path).column("soft_label").to_pylist(), dtype=np.float64)


def _params(path) -> dict:
    return json.loads(pq.read_schema(path).metadata[b"lsctl"])["params"]


def _error_line(r) -> str:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


def test_the_data_has_words_below_the_cut():
    counts: dict[str, int] = {}
    for toks in _tokens():
        for t in toks:
            counts[t] = counts.get(t, 0) + 1
    assert {1, 2, 3} <= set(counts.values())


@pytest.mark.parametrize("variant", ["kwls", "tfidf"])
@pytest.mark.parametrize("m", [2, 3])
def test_min_count_equals_the_reference_without_rare_words(cli, data, tmp_path, variant, m):
    out = tmp_path / "soft.parquet"
    r = cli("softlabel", data, "--method", variant, "--min-count", m, "-o", out, "-q")
    assert r.exit_code == 0, r.stderr
    tokens = _tokens()
    want = soft_labels(tokens, GOLD, LABELS, variant=variant, min_count=m)
    everything = soft_labels(tokens, GOLD, LABELS, variant=variant)
    assert np.abs(np.array(want) - np.array(everything)).max() > 1e-3  # the cut matters
    np.testing.assert_allclose(_soft(out), want, atol=1e-6)
    assert _params(out)["min_count"] == m


def test_keywords_with_overrides_behave_as_documented(cli, data, tmp_path):
    kw = tmp_path / "kw.parquet"
    assert cli("keywords", data, "-o", kw, "-q").exit_code == 0
    tokens = _tokens()

    # k1, b and k2 given with --keywords override the artifact's values.
    out = tmp_path / "over.parquet"
    r = cli(
        "softlabel", data, "--keywords", kw, "--k1", "1.2", "--b", "0.3", "--k2", "3", "-o", out
    )
    assert r.exit_code == 0, r.stderr
    want = soft_labels(tokens, GOLD, LABELS, k1=1.2, b=0.3, k2=3.0)
    assert np.abs(np.array(want) - np.array(soft_labels(tokens, GOLD, LABELS))).max() > 1e-3
    np.testing.assert_allclose(_soft(out), want, atol=1e-6)
    p = _params(out)
    assert (p["k1"], p["b"], p["k2"]) == (1.2, 0.3, 3.0)

    # --min-count applies to the artifact's statistics.
    out = tmp_path / "min2.parquet"
    r = cli("softlabel", data, "--keywords", kw, "--min-count", "2", "-o", out, "-q")
    assert r.exit_code == 0, r.stderr
    np.testing.assert_allclose(
        _soft(out), soft_labels(tokens, GOLD, LABELS, min_count=2), atol=1e-6
    )

    # Keywords built with --min-count 2 carry the cut with them.
    kw2 = tmp_path / "kw2.parquet"
    assert cli("keywords", data, "-o", kw2, "--min-count", "2", "-q").exit_code == 0
    out = tmp_path / "kw2soft.parquet"
    r = cli("softlabel", data, "--keywords", kw2, "-o", out, "-q")
    assert r.exit_code == 0, r.stderr
    np.testing.assert_allclose(
        _soft(out), soft_labels(tokens, GOLD, LABELS, min_count=2), atol=1e-6
    )
    assert _params(out)["min_count"] == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--tokenizer", "whitespace"], "--tokenizer"),
        (["--no-lowercase"], "--lowercase"),
        (["--stopwords", "english"], "--stopwords"),
        (["--cross-fit", "3"], "--cross-fit"),
    ],
)
def test_keywords_refuse_what_they_cannot_honour(cli, data, tmp_path, args, needle):
    kw = tmp_path / "kw.parquet"
    assert cli("keywords", data, "-o", kw, "-q").exit_code == 0
    out = tmp_path / "x.parquet"
    r = cli("softlabel", data, "--keywords", kw, *args, "-o", out)
    # --cross-fit with --keywords is two options that exclude each other: usage (2);
    # the others contradict the keywords file: a data error (1).
    assert r.exit_code == (2 if needle == "--cross-fit" else 1)
    assert needle in _error_line(r)
    assert not out.exists()
