"""The hf_model/ folder as plain transformers sees it (issue 13, item 9).

Its tokenizer must truncate where training did, so `pipeline()` agrees with
`lsctl eval` on long texts, and it carries a model card.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from trainkit import tiny_bert_dir, tiny_config, write_dataset

from lsctl.train.loop import train

pytestmark = pytest.mark.slow  # fine-tunes a (tiny) transformer once for the module


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A random-weight BERT whose tokenizer has no model_max_length (1e30), as many do."""
    return tiny_bert_dir(tmp_path_factory.mktemp("tiny-bert"), num_labels=3)


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_bert):
    from typer.testing import CliRunner

    from lsctl.cli.app import app

    d = tmp_path_factory.mktemp("hf-run")
    data = write_dataset(d / "train.parquet", n=90)
    soft = d / "soft.parquet"
    r = CliRunner().invoke(
        app, ["softlabel", str(data), "-o", str(soft), "--method", "uniform", "-q"]
    )
    assert r.exit_code == 0, r.stderr
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(
            tiny_config(
                soft, d / "run", model=f"hf:{tiny_bert}", loss="aux", lr=1e-3, max_length=12
            )
        )
    finally:
        torch.set_num_threads(old)
    return {"dir": d / "run", "train": soft}


def test_saved_tokenizer_truncates_at_the_training_max_length(run):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(run["dir"] / "hf_model")
    assert tok.model_max_length == 12
    long_text = " ".join(["pasta goal chip"] * 100)
    assert len(tok(long_text, truncation=True)["input_ids"]) == 12


def test_pipeline_agrees_with_lsctl_on_long_texts(run):
    from transformers import pipeline

    from lsctl.train.predict import load_predictor

    texts = [" ".join(["pasta", "goal", "robot", "salad"] * 40), "soup team data", "chip"]
    pipe = pipeline("text-classification", model=str(run["dir"] / "hf_model"), device="cpu")
    out = pipe(texts, truncation=True, top_k=None)
    predictor = load_predictor(str(run["dir"]), "cpu")
    logits = predictor.logits(texts, 8)
    probs = torch.softmax(torch.as_tensor(np.asarray(logits)), dim=1).numpy()
    id2label = pipe.model.config.id2label
    for row, scores in zip(probs, out, strict=True):
        by_label = {s["label"]: s["score"] for s in scores}
        want = {id2label[i]: float(p) for i, p in enumerate(row)}
        assert by_label == pytest.approx(want, abs=1e-5)


def test_model_card(run):
    card = (run["dir"] / "hf_model" / "README.md").read_text(encoding="utf-8")
    sha = hashlib.sha256(run["train"].read_bytes()).hexdigest()
    config = json.loads((run["dir"] / "config.json").read_text())
    assert card.startswith("---\n") and "pipeline_tag: text-classification" in card
    assert sha in card
    assert "`aux`" in card and "MSE" in card
    assert "lsctl softlabel --method uniform" in card
    assert f"| dev accuracy | {config['best']['dev_accuracy']:.4f} |" in card
    assert f"| selected epoch | {config['best']['epoch']} " in card
    assert "model_max_length" in card and "12 tokens" in card
