"""``lsctl.train``, ``lsctl.evaluate`` and ``lsctl.compare`` from DataFrames, checked by hand."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lsctl
from lsctl.validation import ParameterError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from trainkit import make_texts

TINY = dict(model="textcnn", epochs=2, batch_size=16, embed_dim=16, max_length=16, device="cpu")


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_train_evaluate_compare_from_dataframes(tmp_path):
    texts, gold = make_texts(150, seed=0)
    train = pd.DataFrame({"text": texts[:90], "label": gold[:90]})
    dev = pd.DataFrame({"text": texts[90:120], "label": gold[90:120]})
    test = pd.DataFrame({"text": texts[120:], "label": gold[120:]})
    soft = lsctl.soft_labels(train, "kwls")
    evals = []
    for name, data, loss in (("ce", train, "ce"), ("kwls", soft, "aux")):
        result = lsctl.train(data, str(tmp_path / name), dev=dev, loss=loss, seed=1, **TINY)
        assert result.labels == sorted(set(gold))
        assert len(result.history) == 2
        saved = json.loads((tmp_path / name / "config.json").read_text())
        assert saved["options"]["loss"] == loss
        ev = lsctl.evaluate(str(tmp_path / name), test, name=name)
        y = np.array([result.labels.index(g) for g in test["label"]])
        np.testing.assert_array_equal(ev.y, y)
        assert ev.summary["accuracy"] == pytest.approx(float((ev.probs.argmax(1) == y).mean()))
        evals.append(ev)
    cmp = lsctl.compare(evals, baseline="ce", rounds=200)
    assert cmp.n == 30 and cmp.systems == {"ce": [1], "kwls": [1]}
    (row,) = cmp.rows
    acc = [ev.summary["accuracy"] for ev in evals]
    assert (row["system"], row["baseline"]) == ("kwls", "ce")
    assert row["delta"] == pytest.approx(acc[1] - acc[0])
    assert list(cmp.to_pandas()["system"]) == ["kwls"]


def test_unknown_training_option_names_the_parameter(tmp_path):
    with pytest.raises(ParameterError, match="epoch is not a training option"):
        lsctl.train(pd.DataFrame({"text": ["a"], "label": ["x"]}), str(tmp_path / "r"), epoch=3)


def test_evaluation_options_are_named_as_parameters(cli, tmp_path):
    with pytest.raises(ParameterError, match="bins=0 must be >= 1"):
        lsctl.evaluate(str(tmp_path / "no-run"), pd.DataFrame({"text": ["a"], "label": ["x"]}),
                       bins=0)  # fmt: skip
    r = cli("eval", tmp_path / "no-run", tmp_path / "no-data.parquet", "--batch-size", "0")
    assert r.exit_code == 2 and "Error: --batch-size 0 must be >= 1" in r.stderr


def _preds(gold: list[str], correct: list[bool]) -> pd.DataFrame:
    """A predictions table on ``gold`` (labels neg, pos) that is right where ``correct`` says."""
    index = ["neg", "pos"]
    probs = [
        [0.8, 0.2] if (g == "neg") == ok else [0.2, 0.8]
        for g, ok in zip(gold, correct, strict=True)
    ]
    assert [index[int(np.argmax(p))] == g for p, g in zip(probs, gold, strict=True)] == correct
    return pd.DataFrame({"id": range(len(gold)), "label": gold, "probs": probs})


def test_compare_a_dict_names_systems_and_pairs_their_seeds_in_order():
    from scipy import stats

    gold = ["neg", "pos"] * 5
    right = [True] * 10
    # seed 1: b misses 2 rows, seed 2: 1 row, seed 3: 4 rows; a is right everywhere but
    # one row of seed 3.
    b_right = [[False] * 2 + [True] * 8, [False] + [True] * 9, [False] * 4 + [True] * 6]
    a_right = [right, right, [True] * 9 + [False]]
    a = [_preds(gold, r) for r in a_right]
    b = [_preds(gold, r) for r in b_right]
    cmp = lsctl.compare({"a": a, "b": b}, baseline="a", labels=["neg", "pos"], rounds=500)
    assert cmp.systems == {"a": [1, 2, 3], "b": [1, 2, 3]}
    (row,) = cmp.rows
    acc_a = [np.mean(r) for r in a_right]
    acc_b = [np.mean(r) for r in b_right]
    assert (row["system"], row["baseline"]) == ("b", "a")
    assert row["delta"] == pytest.approx(np.mean(acc_b) - np.mean(acc_a))
    assert row["p_ttest"] == pytest.approx(stats.ttest_rel(acc_b, acc_a).pvalue)


def test_compare_a_dict_overrides_a_files_name_and_refuses_bad_keys(tmp_path):
    gold = ["neg", "pos"] * 3
    one = _preds(gold, [True] * 6)
    two = _preds(gold, [False] + [True] * 5)
    listed = lsctl.compare([one, two], labels=["neg", "pos"], rounds=100)
    # A list names a table without a name of its own by its argument, not its temporary file.
    assert listed.systems == {"preds[0]": [1], "preds[1]": [1]}
    one.to_parquet(tmp_path / "old.parquet")  # no lsctl metadata: named by its file
    cmp = lsctl.compare(
        {"first": str(tmp_path / "old.parquet"), "second": two}, labels=["neg", "pos"], rounds=100
    )
    assert cmp.systems == {"first": [1], "second": [1]}
    (row,) = cmp.rows  # all pairs, in the dict's order: second against first
    assert (row["system"], row["baseline"], row["delta"]) == (
        "second",
        "first",
        pytest.approx(-1 / 6),
    )
    with pytest.raises(ParameterError, match="key ''"):
        lsctl.compare({"": one, "b": two}, labels=["neg", "pos"])
    with pytest.raises(ParameterError, match=r"preds\['b'\] is empty"):
        lsctl.compare({"a": one, "b": []}, labels=["neg", "pos"])
    with pytest.raises(ParameterError, match="names its systems by its keys"):
        lsctl.compare({"a": one, "b": two}, names={"*": "x"}, labels=["neg", "pos"])


def test_evaluate_records_tables_by_their_arguments_and_names_calibrate_once(tmp_path):
    rows = pd.DataFrame({"text": ["great fun", "dull plot"] * 16, "label": ["pos", "neg"] * 16})
    dev = pd.DataFrame({"text": ["great cast", "dull pace"] * 4, "label": ["pos", "neg"] * 4})
    test = pd.DataFrame({"text": ["great", "dull"], "label": ["pos", "neg"]})
    run = str(tmp_path / "run")
    lsctl.train(rows, run, dev=dev, model="fasttext", epochs=1, seed=1)
    ev = lsctl.evaluate(run, test, calibrate=dev)
    for meta in (ev.meta, ev.calibrated.meta):
        paths = [r["path"] for r in meta["inputs"]]
        assert "lsctl-api-" not in json.dumps(meta), meta
        assert paths[0] == "data (a table)" and run in paths
    assert ev.calibrated.meta["inputs"][-1]["path"] == "calibrate (a table)"
    assert ev.calibrated.meta["params"]["calibrate"] == "calibrate (a table)"
    assert "lsctl-api-" not in json.dumps(ev.calibrated.summary, default=str)
    with pytest.raises(lsctl.LsctlError) as err:
        lsctl.evaluate(run, test, calibrate=rows)  # the training rows: refused
    assert str(err.value).startswith("calibrate (a table): DEV is the data this run"), err.value


def test_distill_takes_an_evaluation_or_a_table_as_its_teacher(tmp_path):
    rows = pd.DataFrame({"text": ["great fun", "dull plot", "great cast"] * 8})
    rows["label"] = ["pos", "neg", "pos"] * 8
    run = str(tmp_path / "run")
    lsctl.train(rows, run, dev=rows, model="fasttext", epochs=2, seed=1)
    ev = lsctl.evaluate(run, rows)
    z = np.stack(ev.table.column("logits").to_numpy(zero_copy_only=False)) / 2.0
    expected = np.exp(z - z.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)  # softmax(logits / T), T = 2
    # A pandas round trip drops the label order of the logits: teacher_labels gives it.
    frame = dict(teacher=ev.table.to_pandas(), teacher_labels=["neg", "pos"])
    for given in (dict(teacher=ev), frame, dict(teacher=[ev])):
        soft = lsctl.soft_labels(rows, "distill", temperature=2.0, **given)
        np.testing.assert_allclose(np.stack(soft["soft_label"]), expected, atol=1e-6)
        assert "lsctl-api-" not in json.dumps(soft.attrs["lsctl"])
    assert soft.attrs["lsctl"]["inputs"][0]["path"] == "teacher[0] (a table)"
    with pytest.raises(
        ParameterError, match=r"needs teacher: .* from lsctl\.evaluate\(run, data\)"
    ):
        lsctl.soft_labels(rows, "distill")
    with pytest.raises(ParameterError, match=r"^teacher must be a pandas DataFrame"):
        lsctl.soft_labels(rows, "distill", teacher=5)


def test_evaluate_predicts_a_table_without_labels(tmp_path):
    rows = pd.DataFrame({"text": ["great fun", "dull plot"] * 16, "label": ["pos", "neg"] * 16})
    run = str(tmp_path / "run")
    lsctl.train(rows, run, dev=rows, model="fasttext", epochs=2, seed=1)
    new = pd.DataFrame({"text": ["great fun", "dull plot", "great"]})
    ev = lsctl.evaluate(run, new)
    assert ev.y is None and ev.summary["labelled"] is False and ev.probs.shape == (3, 2)
    assert ev.table.column_names == ["id", "pred", "probs", "logits"]
    labelled = lsctl.evaluate(run, new.assign(label=["pos", "neg", "pos"]))
    np.testing.assert_array_equal(ev.probs, labelled.probs)
