"""The API on the inputs a notebook hands it: integer labels, filtered frames, extra columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
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
