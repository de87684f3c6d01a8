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
