"""`lsctl softlabel` end to end: the authors' outputs, pipes, summaries, every bad input."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from conftest import shared_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "smoothing"))
from kwls_plain import soft_labels

from lsctl.text.tokenize import TokenizerSpec, tokenize

TEXTS = [
    "The movie was great, great fun!",
    "Terrible plot; the acting was bad.",
    "great acting and a great plot",
    "bad bad bad  movie",
    "An okay film, neither great nor bad.",
    "Fun, fun, fun: the best movie of the year",
    "worst film ever, bad",
    "the plot was fine",
]
GOLD = ["pos", "neg", "pos", "neg", "neu", "pos", "neg", "neu"]
LABELS = ["neg", "neu", "pos"]


def _meta(path) -> dict:
    return json.loads(pq.read_schema(path).metadata[b"lsctl"])


def _soft(path) -> np.ndarray:
    t = pq.read_table(path)
    return np.array(t.column("soft_label").to_pylist(), dtype=np.float64)


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"text": TEXTS, "label": GOLD, "extra": list(range(8))}), path)
    return path


def _error_line(r) -> str:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in r.stderr
    return lines[0]


# -- parity with the KWLS authors' released script ----------------------------

REFERENCES = [
    "trec",
    "ag_news",
    "sst2",
    pytest.param("20newsgroups", marks=pytest.mark.slow),
    pytest.param("imdb", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name", REFERENCES)
def test_matches_the_authors_script(cli, tmp_path, name):
    ref = shared_dataset("kwls_reference", f"{name}.parquet")
    out = tmp_path / "soft.parquet"
    r = cli("softlabel", ref, "--method", "kwls", "--tokenizer", "whitespace", "-o", out, "-q")
    assert r.exit_code == 0, r.stderr
    want_labels = json.loads(pq.read_schema(ref).metadata[b"labels"])
    assert _meta(out)["labels"] == want_labels
    want = np.array(pq.read_table(ref, columns=["soft_label"])[0].to_pylist())
    got = _soft(out)
    assert got.shape == want.shape
    assert np.abs(got - want).max() < 1e-6


# -- methods and output --------------------------------------------------------


def test_kwls_output_columns_metadata_and_values(cli, data, tmp_path):
    out = tmp_path / "soft.parquet"
    r = cli("softlabel", data, "-o", out, "--k1", "1.5", "--b", "0.5", "-q")
    assert r.exit_code == 0, r.stderr
    t = pq.read_table(out)
    assert t.column_names == ["id", "text", "label", "extra", "soft_label", "soft_argmax"]
    assert t.schema.field("soft_label").type == pa.list_(pa.float32(), 3)
    meta = _meta(out)
    # soft_argmax names each row's largest soft_label entry, in the metadata's order.
    soft = np.array(t.column("soft_label").to_pylist())
    want = [meta["labels"][i] for i in soft.argmax(axis=1)]
    assert t.column("soft_argmax").to_pylist() == want
    assert meta["kind"] == "softlabels"
    assert meta["labels"] == LABELS
    p = meta["params"]
    assert (p["method"], p["k1"], p["b"], p["k2"]) == ("kwls", 1.5, 0.5, 2.0)
    assert p["tokenizer"] == {"name": "words", "lowercase": True, "stopwords": "none"}
    assert meta["inputs"][0]["path"] == str(data)
    want = soft_labels(tokenize(TEXTS, TokenizerSpec()), GOLD, LABELS, k1=1.5, b=0.5)
    np.testing.assert_allclose(_soft(out), want, atol=1e-7)


def test_kwls_at_the_largest_k1_and_k2_stays_finite_and_matches_plain(cli, data, tmp_path):
    # At the upper bound the saturation is gone (WLC -> f, WIR -> f) but
    # nothing overflows: the plain implementation agrees.
    out = tmp_path / "soft.parquet"
    r = cli("softlabel", data, "-o", out, "--k1", "1e12", "--k2", "1e12", "-q")
    assert r.exit_code == 0, r.stderr
    want = soft_labels(tokenize(TEXTS, TokenizerSpec()), GOLD, LABELS, k1=1e12, k2=1e12)
    np.testing.assert_allclose(_soft(out), want, atol=1e-6)


def test_kwls_seed_without_cross_fit_is_not_claimed(cli, data, tmp_path):
    # The seed only assigns --cross-fit folds: alone it changes nothing, so the
    # output records no seed and the user is told.
    out, out7 = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert cli("softlabel", data, "-o", out, "-q").exit_code == 0
    r = cli("softlabel", data, "-o", out7, "--seed", "7")
    assert r.exit_code == 0 and "--seed only assigns the --cross-fit folds" in r.stderr
    np.testing.assert_array_equal(_soft(out), _soft(out7))
    assert _meta(out7)["params"]["seed"] is None
    r = cli("softlabel", data, "-o", out7, "--seed", "7", "--cross-fit", "2", "-q")
    assert r.exit_code == 0 and _meta(out7)["params"]["seed"] == 7


def test_uniform_k_convention_is_torchs_label_smoothing_target(cli, data, tmp_path):
    torch = pytest.importorskip("torch")
    out = tmp_path / "u.parquet"
    r = cli("softlabel", data, "-m", "uniform", "--epsilon", "0.2", "-o", out, "-q")
    assert r.exit_code == 0, r.stderr
    soft = torch.tensor(_soft(out))
    y = torch.tensor([LABELS.index(g) for g in GOLD])
    logits = torch.randn(8, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    want = torch.nn.functional.cross_entropy(logits, y, label_smoothing=0.2)
    got = torch.nn.functional.cross_entropy(logits, soft)
    assert torch.allclose(got, want, atol=1e-6)
    assert _meta(out)["params"] == {"method": "uniform", "epsilon": 0.2, "convention": "k"}


def test_nls_negative_rate(cli, data, tmp_path):
    out = tmp_path / "n.parquet"
    r = cli("softlabel", data, "-m", "nls", "--rate", "-0.6", "-o", out, "--json")
    assert r.exit_code == 0, r.stderr
    d = _soft(out)
    np.testing.assert_allclose(d[0], [-0.2, -0.2, 1.4], atol=1e-6)
    s = json.loads(r.stdout)
    assert s["mean_entropy"] is None
    assert s["argmax_agreement"] == 1.0


def test_json_summary_matches_the_written_file(cli, data, tmp_path):
    out = tmp_path / "t.parquet"
    r = cli("softlabel", data, "-m", "tfidf", "-o", out, "--json")
    assert r.exit_code == 0, r.stderr
    s = json.loads(r.stdout)
    d = _soft(out)
    y = np.array([LABELS.index(g) for g in GOLD])
    assert s["rows"] == 8
    assert s["mean_gold_prob"] == pytest.approx(d[np.arange(8), y].mean(), abs=1e-6)
    assert s["argmax_agreement"] == pytest.approx((d.argmax(1) == y).mean())
    assert s["mean_entropy"] == pytest.approx(-(d * np.log(d)).sum(1).mean(), abs=1e-5)
    assert s["labels"] == LABELS


def test_stdout_pipe_and_stdin(cli, data, tmp_path):
    r = cli("softlabel", data, "-m", "uniform", "-o", "-", "-q")
    assert r.exit_code == 0, r.stderr
    t = ipc.open_stream(io.BytesIO(r.stdout_bytes)).read_all()
    assert t.num_rows == 8 and "soft_label" in t.column_names
    out = tmp_path / "again.parquet"
    r2 = cli("softlabel", "-", "-m", "kwls", "-o", out, "-q", input=r.stdout_bytes)
    assert r2.exit_code == 0, r2.stderr
    assert _soft(out).shape == (8, 3)


def test_show_prints_examples_on_stderr(cli, data):
    r = cli("softlabel", data, "--show", "2")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert "The movie was great" in r.stderr
    assert "mean p(gold)" in r.stderr
    assert "Terrible plot" in r.stderr and "fun: the best" not in r.stderr


def test_show_spreads_its_examples_over_the_classes(cli, data):
    # At most ceil(3/3) = 1 row per gold label: the first pos, neg and neu rows,
    # not the second pos row that comes before the first neu one.
    r = cli("softlabel", data, "--show", "3")
    assert r.exit_code == 0, r.stderr
    for shown in (TEXTS[0], TEXTS[1], TEXTS[4]):
        assert shown[:20] in r.stderr, r.stderr
    assert TEXTS[2][:20] not in r.stderr


def test_document_without_tokens_warns_with_count(cli, tmp_path):
    # Texts with no word tokens get the uniform vector with a warning; a null
    # or blank text is an error, as in every command (tests/robustness).
    path = tmp_path / "e.parquet"
    pq.write_table(
        pa.table({"text": ["good fun", "!!", "bad", "- -"], "label": list("pnnp")}), path
    )
    out = tmp_path / "o.parquet"
    r = cli("softlabel", path, "-o", out)
    assert r.exit_code == 0, r.stderr
    assert "2 documents have no tokens" in r.stderr
    np.testing.assert_allclose(_soft(out)[[1, 3]], 0.5)


def test_keywords_from_train_apply_to_test(cli, data, tmp_path):
    test = tmp_path / "test.parquet"
    test_texts = ["great fun movie", "bad plot", "unseen words only"]
    pq.write_table(pa.table({"text": test_texts, "label": ["pos", "neg", "neu"]}), test)
    kw = tmp_path / "kw.parquet"
    assert cli("keywords", data, "-o", kw, "-q").exit_code == 0
    out = tmp_path / "soft.parquet"
    r = cli("softlabel", test, "--keywords", kw, "-o", out)
    assert r.exit_code == 0, r.stderr
    spec = TokenizerSpec()
    want = soft_labels(tokenize(TEXTS, spec), GOLD, LABELS, apply_tokens=tokenize(test_texts, spec))
    np.testing.assert_allclose(_soft(out), want, atol=1e-7)
    assert "1 documents share no word" in r.stderr
    # Applied to the data it came from, the keywords give the in-sample labels.
    same = tmp_path / "same.parquet"
    insample = tmp_path / "insample.parquet"
    assert cli("softlabel", data, "--keywords", kw, "-o", same, "-q").exit_code == 0
    assert cli("softlabel", data, "-o", insample, "-q").exit_code == 0
    np.testing.assert_array_equal(_soft(same), _soft(insample))
    # Unlabelled data can be scored with keywords.
    unl = tmp_path / "unl.parquet"
    pq.write_table(pa.table({"text": test_texts}), unl)
    r = cli("softlabel", unl, "--keywords", kw, "-o", tmp_path / "u.parquet", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["mean_gold_prob"] is None


def test_cross_fit_records_its_statistics(cli, data, tmp_path):
    out = tmp_path / "cf.parquet"
    r = cli("softlabel", data, "--cross-fit", "4", "--seed", "3", "-o", out, "-q")
    assert r.exit_code == 0, r.stderr
    p = _meta(out)["params"]
    assert (p["cross_fit"], p["seed"]) == (4, 3)
    assert "cross-fitted over 4 folds" in p["statistics"]


# -- bad input: one Error line each ------------------------------------------


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["-m", "uniform", "--epsilon", "1"], "--epsilon"),
        (["-m", "uniform", "--epsilon", "-0.1"], "--epsilon"),
        (["-m", "nls", "--rate", "1"], "--rate"),
        (["-m", "nls", "--rate", "1.5"], "--rate"),
        (["--k1", "0"], "--k1"),
        (["--k1", "-1"], "--k1"),
        (["--b", "1.1"], "--b"),
        (["--b", "-0.1"], "--b"),
        (["--k2", "0"], "--k2"),
        (["--k1", "1e308"], "--k1 1e+308 is outside (0, 1e+12]"),  # k1·f would overflow
        (["--k2", "2e12"], "--k2"),
        (["--keywords", ""], "--keywords is empty"),  # not "no keywords": in-sample KWLS
        (["--stopwords", " "], "--stopwords is empty"),
        (["--cross-fit", "1"], "--cross-fit"),
        (["-m", "sharpen"], "unknown --method"),
        (["--tokenizer", "bpe"], "unknown --tokenizer bpe; choose one of words, whitespace"),
    ],
)
def test_bad_options(cli, data, tmp_path, args, match):
    out = tmp_path / "x.parquet"
    r = cli("softlabel", data, "-o", out, *args)
    assert r.exit_code == 2  # option values: usage errors, as everywhere
    assert match in _error_line(r)
    assert not out.exists()


def test_no_label_column(cli, tmp_path):
    path = tmp_path / "nolabel.parquet"
    pq.write_table(pa.table({"text": ["a b", "c"]}), path)
    for method in ("uniform", "kwls"):
        r = cli("softlabel", path, "-m", method, "-o", tmp_path / "o.parquet")
        assert r.exit_code == 1
        assert "no column 'label'" in _error_line(r)


def test_keywords_label_mismatches(cli, data, tmp_path):
    kw = tmp_path / "kw.parquet"
    assert cli("keywords", data, "-o", kw, "-q").exit_code == 0
    extra = tmp_path / "extra.parquet"
    pq.write_table(pa.table({"text": ["x y"], "label": ["other"]}), extra)
    r = cli("softlabel", extra, "--keywords", kw, "-o", tmp_path / "o.parquet")
    assert r.exit_code == 1
    assert "'other' is in DATA but not in" in _error_line(r)
    # A dataset stamped with a different label list.
    from lsctl.artifacts import make_meta, write_artifact

    stamped = tmp_path / "stamped.parquet"
    write_artifact(
        pa.table({"text": ["x y"], "label": ["neg"]}),
        str(stamped),
        make_meta("dataset", ["neg", "pos"]),
    )
    r = cli("softlabel", stamped, "--keywords", kw, "-o", tmp_path / "o.parquet")
    assert r.exit_code == 1
    assert "labels differ" in _error_line(r)
    r = cli("softlabel", data, "--keywords", kw, "--tokenizer", "whitespace")
    assert r.exit_code == 1
    assert "--tokenizer" in _error_line(r)
    r = cli("softlabel", data, "--keywords", kw, "--cross-fit", "3")
    assert r.exit_code == 2  # two options that exclude each other: a usage error
    assert "exclude each other" in _error_line(r)
    r = cli("softlabel", data, "--keywords", data)
    assert r.exit_code == 1
    assert "not a keywords artifact" in _error_line(r)


def test_refuses_to_overwrite_input_and_json_with_stdout(cli, data):
    r = cli("softlabel", data, "-o", data)
    assert r.exit_code == 1
    assert "overwrite an input" in _error_line(r)
    r = cli("softlabel", data, "-o", "-", "--json")
    assert r.exit_code == 2
