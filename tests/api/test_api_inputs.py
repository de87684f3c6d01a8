"""The API on the inputs a notebook hands it: integer labels, filtered frames, extra columns."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lsctl
from lsctl.validation import ParameterError

K = 12  # more than ten classes: "10" sorts before "2" as text


def _frame() -> pd.DataFrame:
    y = np.arange(3 * K) % K
    return pd.DataFrame(
        {
            "text": [f"word{v} shared filler{i % 5}" for i, v in enumerate(y)],
            "label": y,
            "count": pd.array(np.arange(3 * K), dtype="Int64"),
            "mixed": [1, "x", None] * K,  # not convertible to Arrow as one type
        },
        index=np.arange(3 * K) + 100,
    )


def test_integer_labels_keep_their_numeric_order_and_the_frame_its_columns():
    df = _frame()
    out = lsctl.soft_labels(df, "uniform", epsilon=0.3)
    assert lsctl.label_order(out) == [str(v) for v in range(K)]
    probs = np.stack(out["soft_label"].to_list())
    # uniform ε: the gold entry is 1 − ε + ε/K, at the label's own (numeric) position.
    assert np.allclose(probs[np.arange(len(df)), df["label"]], 1 - 0.3 + 0.3 / K)
    assert list(out.index) == list(df.index)
    assert out["count"].dtype == df["count"].dtype and out["mixed"].tolist() == df["mixed"].tolist()
    assert list(out.columns) == [*df.columns, "soft_label", "soft_argmax"]
    assert "soft_label" not in df.columns  # the input is not modified


def test_the_collator_looks_integer_labels_up_in_the_given_order():
    from lsctl.losses import SoftLabelCollator

    collator = SoftLabelCollator(None, loss="aux", label_order=["0", "1", "10", "2"])
    assert collator._index(2) == 3 and collator._index("10") == 2
    assert SoftLabelCollator(None, loss="aux")._index(2) == 2  # no order: the index itself


def test_label_order_may_be_integers_but_not_repeat():
    df = _frame()
    order = list(range(K))[::-1]
    out = lsctl.soft_labels(df, "uniform", label_order=order)
    assert lsctl.label_order(out) == [str(v) for v in order]
    with pytest.raises(ParameterError, match=r"label_order=.* repeats a label"):
        lsctl.soft_labels(df, "uniform", label_order=[0, 0, *range(1, K)])
    with pytest.raises(ParameterError, match="label_order is a list of labels, not str"):
        lsctl.soft_labels(df, "uniform", label_order="0,1")


def test_arrow_input_gets_the_columns_appended_and_keeps_its_own():
    t = pa.table({"text": ["a b", "b c", "c d", "d a"], "label": [1, 2, 1, 2], "w": [1.0] * 4})
    out = lsctl.soft_labels(t, "uniform")
    assert out.column_names == ["text", "label", "w", "soft_label", "soft_argmax"]
    assert out.column("w").equals(t.column("w"))
    again = lsctl.soft_labels(out, "uniform", epsilon=0.2)  # replaces, does not duplicate
    assert again.column_names == out.column_names


def test_evaluate_names_rows_by_the_frame_index_so_shuffled_rows_pair_up(tmp_path):
    rng = np.random.default_rng(0)
    words = {"pos": ["good", "great", "fun"], "neg": ["bad", "awful", "dull"]}
    labels = rng.choice(["pos", "neg"], 200)
    texts = [" ".join(rng.choice(words[y], 4)) for y in labels]
    df = pd.DataFrame({"text": texts, "label": labels})
    train, test = df.iloc[:150], df.iloc[150:]
    run = str(tmp_path / "run")
    lsctl.train(train, run, model="fasttext", epochs=1, seed=1)
    a = lsctl.evaluate(run, test, name="a")
    b = lsctl.evaluate(run, test.sample(frac=1, random_state=0), name="b")
    assert sorted(a.table.column("id").to_pylist()) == list(range(150, 200))
    # The same rows in another order are the same test set to compare.
    got = lsctl.compare([a, b])
    assert got.n == 50
    # Prediction tables (id, label, probs) are accepted as they are.
    assert lsctl.compare([a.table, b.table]).n == 50


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lsctl.kwls(["a b", "b c"] * 3, ["x", "y"] * 3, cross_fit=2.5), "cross_fit=2.5 must be a whole number"),
        (lambda: lsctl.kwls(["a b"] * 4, ["x", "y"] * 2, min_count=1.5), "min_count=1.5 must be a whole number"),
        (lambda: lsctl.kwls(["a b"] * 4, ["x", "y"] * 2, lowercase="no"), "lowercase='no' must be True or False"),
        (lambda: lsctl.uniform(["a", "b"], epsilon="0.1"), "epsilon='0.1' must be a number, not str"),
        (lambda: lsctl.add_noise(["a", "b"] * 5, kind="symmetric", rate=0.2, exact="no"), "exact='no' must be True or False"),
        (lambda: lsctl.add_noise(["a", "b"] * 5, kind="symmetric", rate=0.2, texts=["t"] * 10), "texts applies to kind='instance'"),
        (lambda: lsctl.uniform(["{x}", "b"], label_order=["b"]), "labels holds '{x}', which is not in"),
        (lambda: lsctl.undersample(["a", "b"], ratio={"{x}": 0.5}), "names '{x}', which is not a label"),
        (lambda: lsctl.uniform(pd.Series(["a", None], dtype="string")), "labels[1] is missing"),
        (lambda: lsctl.uniform(np.eye(2)), "must be one label per row, not an array of shape (2, 2)"),
        (lambda: lsctl.train(pd.DataFrame({"text": ["a"], "label": ["x"]}), "r", epochs=1.5), "epochs=1.5 must be a whole number"),
        (lambda: lsctl.train(pd.DataFrame({"text": ["a"], "label": ["x"]}), None), "output is a run directory's path"),
        (lambda: lsctl.compare("preds.parquet"), "preds is a list of predictions"),
        (lambda: lsctl.evaluate("run", None, name=5), "name=5 must be a string, not int"),
        (lambda: lsctl.add_noise(["a", "b"], kind="asymmetric", rate=0.2), "kind='asymmetric' needs at least one pair in pairs"),
        (lambda: lsctl.uniform([]), "labels is empty"),
        (lambda: lsctl.train(pd.DataFrame({"text": ["a b"] * 4, "label": ["x", "y"] * 2}), "r", loss="aux"), "add one with lsctl.soft_labels(data, 'kwls')"),
        (lambda: lsctl.undersample(["a", "b"] * 3, ratio=0.5), "ratio is a dict of label → share"),
        (lambda: lsctl.undersample(["a", "b"] * 3, ratio={"a": "0.5"}), "the ratio must be in (0, 1]"),
        (lambda: lsctl.uniform(["a", "b"], label_order="a,b"), "label_order is one string, 'a,b'"),
        (lambda: lsctl.uniform(["a", "b"], label_order=5), "label_order must be the K labels in order (a list, array or Series), not int"),
        (lambda: lsctl.kwls("great film", ["x"] * 10), "texts is one string, 'great film'"),
        (lambda: lsctl.kwls(["a b", "c d"], "xy"), "labels is one string, 'xy'"),
        (lambda: lsctl.split(None), "labels must be one label per row (a list, array or Series), not NoneType"),
        (lambda: lsctl.keyword_stats(["a b", "c"], ["x", "y"], min_count=2.5), "min_count=2.5 must be a whole number"),
        (lambda: lsctl.keyword_stats(["a b", "c"], ["x", "y"], lowercase="no"), "lowercase='no' must be True or False"),
        (lambda: lsctl.nls(["a", "b"], rate=None), "rate"),
        (lambda: lsctl.kwls(["a b", " ", "c"], ["x", "y", "x"]), "texts[1] is blank"),
    ],
)  # fmt: skip
def test_api_refuses_values_of_the_wrong_kind_naming_the_argument(call, message):
    with pytest.raises(lsctl.LsctlError) as err:
        call()
    assert message in str(err.value), str(err.value)


def test_numpy_scalars_and_arrow_arrays_are_ordinary_values():
    y = ["a", "b", "a", "b"]
    p, order = lsctl.uniform(y, epsilon=np.float32(0.2))
    assert np.allclose(p[0], [0.9, 0.1]) and order == ["a", "b"]
    _, order = lsctl.uniform(pa.array(y), label_order=pa.array(["b", "a"]))
    assert order == ["b", "a"]
    _, order = lsctl.uniform(np.array([3, 1, 2]))
    assert order == [1, 2, 3] and type(order[0]) is int
    texts = ["a b", "b c", "c a", "a c"] * 3
    a, _ = lsctl.kwls(texts, y * 3, cross_fit=np.int64(3), seed=np.int64(1))
    b, _ = lsctl.kwls(texts, y * 3, cross_fit=3, seed=1)
    assert np.array_equal(a, b)


def test_one_pair_may_be_given_alone():
    y = ["neg", "pos"] * 5
    want = lsctl.add_noise(y, kind="asymmetric", rate=0.2, pairs=["neg:pos"], seed=3).labels
    for pairs in ("neg:pos", ("neg", "pos")):
        got = lsctl.add_noise(y, kind="asymmetric", rate=0.2, pairs=pairs, seed=3).labels
        assert got.tolist() == want.tolist()


def test_a_rate_kind_matrix_does_not_use_is_a_python_warning():
    with pytest.warns(UserWarning, match="rate is not used by kind='matrix'"):
        lsctl.add_noise(["a", "b", "c"] * 5, kind="matrix", matrix=np.eye(3), rate=0.1)


def test_losses_take_arrays_and_refuse_what_is_not_class_indices():
    import torch

    from lsctl.losses import kwls_aux_loss, smoothed_targets, soft_cross_entropy, soft_label_loss

    z = torch.randn(3, 3)
    d = torch.softmax(torch.randn(3, 3), dim=1)
    assert soft_cross_entropy(z, d.numpy()) == soft_cross_entropy(z, d)
    assert kwls_aux_loss(z, [0, 2, 1], d) == kwls_aux_loss(z, torch.tensor([0, 2, 1]), d)
    assert soft_label_loss()(z, d) == soft_cross_entropy(z, d)  # logits given bare
    for bad, message in [
        (torch.eye(3), "not an array of shape (3, 3)"),
        ([0.9, 1.7], "not 0.9"),
        (["a"], "not str values"),
    ]:
        with pytest.raises(ParameterError, match="must be N class indices") as err:
            smoothed_targets(bad, 3, rate=0.1)
        assert message in str(err.value)
    with pytest.raises(ParameterError, match=r"holds 3, outside \[0, 3\)"):
        kwls_aux_loss(z, [0, 3, 1], d)
    with pytest.raises(ParameterError, match=r"num_classes=3\.5 must be a whole number"):
        smoothed_targets([0], 3.5, rate=0.1)


def test_train_resumes_a_table_run_and_evaluate_takes_its_result(tmp_path):
    df = pd.DataFrame(
        {"text": ["good fun", "bad dull", "great fun", "awful bad"] * 20, "label": ["p", "n"] * 40}
    )
    run = tmp_path / "run"
    first = lsctl.train(df, run, model="fasttext", epochs=1, seed=2)
    assert "lsctl-api-" not in str(first.summary())
    config = json.loads((run / "config.json").read_text())
    # The table's temporary file is gone: every record names the argument
    # instead (config.json, metrics.parquet), beside the rows' content hash.
    assert config["options"]["train"] == config["inputs"][0]["path"] == "data (a table)"
    assert "lsctl-api-" not in json.dumps(config)
    assert len(config["inputs"][0]["sha256"]) == 64
    assert b"lsctl-api-" not in pq.read_schema(run / "metrics.parquet").metadata[b"lsctl"]
    more = lsctl.train(df, run, model="fasttext", epochs=2, seed=2, resume=True)
    assert [r["epoch"] for r in more.history] == [1, 2]
    assert "lsctl-api-" not in (run / "config.json").read_text()
    # Other rows under the same argument: named by it, as a data error.
    with pytest.raises(lsctl.LsctlError, match=r"data \(a table\) changed since the run started"):
        lsctl.train(df.iloc[:60], run, model="fasttext", epochs=3, seed=2, resume=True)
    assert lsctl.evaluate(more, df.iloc[:8]).summary["accuracy"] >= 0


def test_train_applies_a_preset_and_the_options_given_win(tmp_path):
    df = pd.DataFrame({"text": ["good fun", "bad dull"] * 20, "label": ["p", "n"] * 20})
    lsctl.train(df, tmp_path / "run", preset="kim2014", epochs=1, embed_dim=8, max_length=8)
    options = json.loads((tmp_path / "run" / "config.json").read_text())["options"]
    # Kim 2014's recipe where nothing was given; the given epochs and embed_dim win.
    assert (options["optimizer"], options["lr"], options["batch_size"]) == ("adadelta", 1.0, 50)
    assert (options["max_norm"], options["conv_padding"]) == (3.0, "full")
    assert (options["epochs"], options["embed_dim"]) == (1, 8)
    # None means "not given" here too: it does not block the preset's value.
    lsctl.train(df, tmp_path / "run2", preset="kim2014", optimizer=None, epochs=1, embed_dim=8,
                max_length=8)  # fmt: skip
    options = json.loads((tmp_path / "run2" / "config.json").read_text())["options"]
    assert options["optimizer"] == "adadelta"


def test_an_option_passed_as_none_takes_its_default():
    y = ["a", "b", "a", "b"]
    texts = ["good fun", "dull plot", "good cast", "dull pace"]
    np.testing.assert_array_equal(lsctl.uniform(y, epsilon=None)[0], lsctl.uniform(y)[0])
    ours = lsctl.keyword_stats(texts, y, k1=None, b=None, min_count=None, tokenizer=None)
    assert ours.table.equals(lsctl.keyword_stats(texts, y).table)
    df = pd.DataFrame({"text": texts, "label": y})
    soft = lsctl.soft_labels(df, "uniform", epsilon=None, convention=None)
    plain = lsctl.soft_labels(df, "uniform")
    np.testing.assert_array_equal(np.stack(soft["soft_label"]), np.stack(plain["soft_label"]))
    noisy = lsctl.add_noise(y * 5, kind="symmetric", rate=0.4, seed=None, exact=None)
    plain = lsctl.add_noise(y * 5, kind="symmetric", rate=0.4)
    assert noisy.labels.tolist() == plain.labels.tolist() and noisy.options == plain.options


def test_tables_with_one_column_twice_or_mixed_types_are_refused_by_name():
    df = pd.DataFrame({"text": ["a b", "c d"], "label": ["x", "y"]})
    with pytest.raises(ParameterError, match="text='label' and label='label' name the same column"):
        lsctl.soft_labels(df, "kwls", text="label")
    mixed = pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [1, "a", 1, "a"]})
    with pytest.raises(ParameterError, match=r"column label .*give each column one type"):
        lsctl.soft_labels(mixed, "kwls")
    renamed = pd.DataFrame({"review": [1, 2], "stars": ["x", "y"]})
    with pytest.raises(ParameterError, match="text='review': the column holds int64, not strings"):
        lsctl.soft_labels(renamed, "kwls", text="review", label="stars")
    with pytest.raises(ParameterError, match=r"label_order=\['y'\] lacks the label 'x'"):
        lsctl.soft_labels(df, "uniform", label_order=["y"])
    large = pa.table({"text": pa.array(["a b", "c d"], pa.large_string()), "label": ["x", "y"]})
    assert lsctl.soft_labels(large, "kwls").num_rows == 2  # polars hands over large strings
    with pytest.raises(ParameterError, match=r"^result must be a pandas DataFrame"):
        lsctl.label_order([1])
    with pytest.raises(ParameterError, match=r"^preds\[1\] must be a pandas DataFrame"):
        lsctl.compare([df, 5])
    with pytest.raises(ParameterError, match="labels is one string, 'x,y'"):
        lsctl.compare([df, df], labels="x,y")


def test_the_collator_names_a_column_the_trainer_dropped():
    from lsctl.losses import SoftLabelCollator

    with pytest.raises(
        ParameterError, match=r"example 0 has no .soft_label.*remove_unused_columns"
    ):
        SoftLabelCollator(None)([{"text": "a"}])


def test_each_command_the_api_translates_is_still_advised_by_the_core():
    # A reworded core message would otherwise reach Python users untranslated.
    from pathlib import Path

    from lsctl.api import _PYTHON_ADVICE

    root = Path(lsctl.__file__).parent
    core = "".join(p.read_text() for p in root.rglob("*.py") if p != root / "api" / "__init__.py")
    for command in _PYTHON_ADVICE:
        assert command in core, command


def test_compare_advice_speaks_python(tmp_path):
    gold = ["neg", "pos"] * 2
    probs = [[0.8, 0.2], [0.2, 0.8]] * 2
    table = pa.table({"id": range(4), "label": gold, "probs": probs})
    with pytest.raises(lsctl.LsctlError) as err:
        lsctl.compare({"a": [table, table]}, labels=["neg", "pos"])
    assert "lsctl eval" not in str(err.value) and "name= of lsctl.evaluate" in str(err.value)


def test_the_callable_subpackages_show_their_functions_parameters():
    import inspect

    assert list(inspect.signature(lsctl.train).parameters)[:4] == [
        "data",
        "output",
        "dev",
        "resume",
    ]
    assert "calibrate" in inspect.signature(lsctl.evaluate).parameters


def test_core_warnings_reach_python_as_user_warnings_at_the_callers_line(tmp_path):
    texts, labels = ["!!!", "good film", "bad film"], ["x", "y", "x"]
    with pytest.warns(UserWarning, match="1 document has no tokens") as got:
        lsctl.kwls(texts, labels)
    assert {w.filename for w in got} == {__file__}  # the caller's line, not lsctl's
    with pytest.warns(UserWarning, match="1 document has no tokens"):
        lsctl.soft_labels(pd.DataFrame({"text": texts, "label": labels}))
    rows = pd.DataFrame({"text": ["great fun", "dull plot"] * 8, "label": ["pos", "neg"] * 8})
    soft = lsctl.soft_labels(rows, "uniform")
    with pytest.warns(
        UserWarning, match=r"^data \(a table\) has a soft_label column, which loss ce"
    ):
        lsctl.train(soft, str(tmp_path / "r"), dev=rows, model="fasttext", epochs=1)
    blank = pd.concat([rows, pd.DataFrame({"text": [""], "label": ["pos"]})], ignore_index=True)
    with pytest.warns(UserWarning, match=r"^data \(a table\): dropped 1 row with null or empty"):
        lsctl.train(
            blank, str(tmp_path / "r2"), dev=rows, model="fasttext", epochs=1, drop_empty=True
        )
