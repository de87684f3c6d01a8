"""``lsctl.soft_labels`` and the array functions: the same numbers as the CLI and as plain code."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import shared_dataset

import lsctl
from lsctl.artifacts import read_artifact
from lsctl.validation import ParameterError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "smoothing"))
from kwls_plain import soft_labels as plain_kwls

TOY = pd.DataFrame(
    {
        "review": [
            "a good fun film",
            "bad awful plot",
            "good plot and fun",
            "awful bad acting",
            "fun film",
            "so bad",
        ],
        "sentiment": ["pos", "neg", "pos", "neg", "pos", "neg"],
    },
    index=[10, 11, 12, 13, 14, 15],
)


def _cli_soft(cli, tmp_path, table: pa.Table, *args: str) -> tuple[np.ndarray, list[str]]:
    src = tmp_path / "in.parquet"
    out = tmp_path / "out.parquet"
    pq.write_table(table, src)
    r = cli("softlabel", src, "-o", out, "-q", *args)
    assert r.exit_code == 0, r.stderr
    got, reader = read_artifact(str(out))
    k = len(reader.meta["labels"])
    return np.stack(got.column("soft_label").to_pylist()).reshape(-1, k), reader.meta["labels"]


def test_pandas_kwls_equals_the_cli_and_carries_the_label_order(cli, tmp_path):
    res = lsctl.soft_labels(
        TOY, "kwls", text="review", label="sentiment", tokenizer="whitespace", k1=1.5
    )
    assert isinstance(res, pd.DataFrame)
    assert list(res.index) == list(TOY.index)
    assert list(res.columns) == ["review", "sentiment", "soft_label", "soft_argmax"]
    assert res.attrs["labels"] == ["neg", "pos"] == lsctl.label_order(res)
    ours = np.stack(res["soft_label"].to_list())
    plain = TOY.rename(columns={"review": "text", "sentiment": "label"})
    table = pa.Table.from_pandas(plain, preserve_index=False)
    theirs, labels = _cli_soft(cli, tmp_path, table, "--tokenizer", "whitespace", "--k1", "1.5")
    assert labels == res.attrs["labels"]
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    # And both equal a plain-loop KWLS written from the paper's equations.
    tokens = [t.split(" ") for t in TOY["review"]]
    ref = plain_kwls(tokens, list(TOY["sentiment"]), labels, k1=1.5)
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert list(res["soft_argmax"]) == [labels[i] for i in ours.argmax(axis=1)]


def test_real_dataset_slice_equals_the_cli(cli, tmp_path):
    table = pq.read_table(shared_dataset("trec", "train.parquet")).slice(0, 400)
    table = table.replace_schema_metadata(None)
    res = lsctl.soft_labels(table, "kwls", tokenizer="whitespace")
    assert isinstance(res, pa.Table)
    ours = np.stack(res.column("soft_label").to_pylist())
    theirs, labels = _cli_soft(cli, tmp_path, table, "--tokenizer", "whitespace")
    assert lsctl.label_order(res) == labels == sorted(set(table.column("label").to_pylist()))
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    assert "id" not in res.column_names  # the input had none; it stays as given


def test_arrow_result_is_an_artifact(tmp_path, cli):
    table = pa.Table.from_pandas(
        TOY.rename(columns={"review": "text", "sentiment": "label"}), preserve_index=False
    )
    res = lsctl.soft_labels(table, "uniform", epsilon=0.3, label_order=["pos", "neg"])
    path = tmp_path / "u.parquet"
    pq.write_table(res, path)
    # Written by plain pyarrow, read by lsctl: the label order is still there.
    r = cli("data", "info", path, "--json")
    assert r.exit_code == 0, r.stderr
    got, reader = read_artifact(str(path))
    assert reader.meta["labels"] == ["pos", "neg"]
    want = [[0.85, 0.15] if lab == "pos" else [0.15, 0.85] for lab in TOY["sentiment"]]
    np.testing.assert_allclose(got.column("soft_label").to_pylist(), want, atol=1e-7)


def test_polars_result_carries_the_order_in_an_enum():
    pl = pytest.importorskip("polars", reason="polars is not installed")
    df = pl.from_pandas(TOY.reset_index(drop=True))
    res = lsctl.soft_labels(df, "nls", text="review", label="sentiment", rate=-0.2)
    assert isinstance(res, pl.DataFrame)
    assert lsctl.label_order(res) == ["neg", "pos"]
    got = np.asarray(res["soft_label"].to_list())
    want = [[-0.1, 1.1] if lab == "pos" else [1.1, -0.1] for lab in TOY["sentiment"]]
    np.testing.assert_allclose(got, want, atol=1e-7)


def test_array_functions_match_hand_computed_targets():
    labels = [2, 0, 1, 2]
    probs, order = lsctl.uniform(labels, epsilon=0.3, convention="k-1")
    assert order == [0, 1, 2] and probs.dtype == np.float32 and probs.shape == (4, 3)
    np.testing.assert_allclose(probs[0], [0.15, 0.15, 0.7], atol=1e-7)
    probs, order = lsctl.nls(np.array(["b", "a"]), rate=-0.4, label_order=["b", "a"])
    assert order == ["b", "a"]
    np.testing.assert_allclose(probs, [[1.2, -0.2], [-0.2, 1.2]], atol=1e-7)


def test_kwls_and_tfidf_arrays_match_plain_code():
    texts = list(TOY["review"])
    gold = list(TOY["sentiment"])
    tokens = [t.split(" ") for t in texts]
    probs, order = lsctl.kwls(texts, gold, tokenizer="whitespace", k2=1.0)
    assert order == ["neg", "pos"] and probs.dtype == np.float32
    np.testing.assert_allclose(probs, plain_kwls(tokens, gold, order, k2=1.0), atol=1e-6)
    probs, _ = lsctl.tfidf(texts, gold, tokenizer="whitespace", label_order=["pos", "neg"])
    ref = plain_kwls(tokens, gold, ["pos", "neg"], variant="tfidf")
    np.testing.assert_allclose(probs, ref, atol=1e-6)


def test_keyword_stats_counts_by_hand():
    res = lsctl.keyword_stats(["a b a", "b c"], ["x", "y"], tokenizer="whitespace")
    rows = {(r["word"], r["label"]): r["count"] for r in res.table.to_pylist()}
    assert rows == {("a", "x"): 2, ("b", "x"): 1, ("b", "y"): 1, ("c", "y"): 1}
    assert res.labels == ["x", "y"] and res.stats["n_docs"] == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lsctl.kwls(["a"], ["x"], k1=0.0), "k1=0.0 is outside (0, 1e+12]"),
        (lambda: lsctl.nls(["x", "y"], rate=1.5), "rate=1.5 must be below 1"),
        (lambda: lsctl.uniform(["x"], epsilon=1.0), "epsilon=1.0 is outside [0, 1)"),
        (lambda: lsctl.soft_labels(TOY, "kwls", epsilon=0.1), "epsilon is not a parameter"),
        (lambda: lsctl.soft_labels([1, 2], "kwls"), "data must be a pandas DataFrame"),
        (lambda: lsctl.uniform(["x", "z"], label_order=["x", "y"]), "'z', which is not in"),
        (
            lambda: lsctl.add_noise(["x", "y"], kind="symmetric"),
            "kind='symmetric' needs rate",
        ),
        (
            lambda: lsctl.add_noise(["x", "y"], kind="symmetric", rate=0.1, pairs=[("x", "y")]),
            "pairs only applies to kind='asymmetric'",
        ),
        (lambda: lsctl.split(["x", "y"] * 3, dev=1.5), "dev=1.5 is outside [0, 1)"),
        (lambda: lsctl.undersample(["x", "y"], cap={"x": 0}), "cap={'x': 0}: the cap"),
    ],
)
def test_api_errors_name_python_parameters(call, message):
    with pytest.raises(ParameterError) as e:
        call()
    assert message in str(e.value)
    assert "--" not in str(e.value)


def test_the_cli_spells_the_same_rule_with_flags(cli, tmp_path):
    src = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["a", "b"], "label": ["x", "y"]}), src)
    r = cli("softlabel", src, "--method", "nls", "--rate", "1.5")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: --rate 1.5 must be below 1 (e.g. --rate -0.2")
    r = cli("noise", src, "-o", tmp_path / "n.parquet", "--kind", "symmetric", "-r", "0.1",
            "--pair", "x:y")  # fmt: skip
    assert r.exit_code == 2
    assert "Error: --pair only applies to --kind asymmetric" in r.stderr
