"""``lsctl.losses``: against torch's own losses, plain formulas, and a tiny HF ``Trainer`` run."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

import lsctl
from lsctl.validation import ParameterError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from trainkit import LABELS, make_texts, tiny_bert_dir


def test_soft_cross_entropy_equals_torch_label_smoothing():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 4, generator=g)
    y = torch.tensor([0, 3, 1, 1, 2])
    d = lsctl.losses.smoothed_targets(y, 4, 0.2)
    want = F.cross_entropy(logits, y, label_smoothing=0.2)
    torch.testing.assert_close(lsctl.losses.soft_cross_entropy(logits, d), want)


def test_negative_targets_are_honoured():
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    d = lsctl.losses.smoothed_targets([0], 3, -0.3)  # NLS: [1.2, -0.1, -0.1]
    torch.testing.assert_close(d, torch.tensor([[1.2, -0.1, -0.1]]))
    logp = [2.0 - np.log(np.exp(2) + 1 + np.exp(-1)), -np.log(np.exp(2) + 1 + np.exp(-1))]
    logp.append(-1.0 - np.log(np.exp(2) + 1 + np.exp(-1)))
    want = -(1.2 * logp[0] - 0.1 * logp[1] - 0.1 * logp[2])
    got = lsctl.losses.soft_cross_entropy(logits, d)
    assert abs(float(got) - want) < 1e-6


def test_smoothed_targets_conventions_by_hand():
    d = lsctl.losses.smoothed_targets(torch.tensor([1]), 3, 0.3, convention="k-1")
    torch.testing.assert_close(d, torch.tensor([[0.15, 0.7, 0.15]]))
    d = lsctl.losses.smoothed_targets([2], 3, 0.1, convention="per-class")
    torch.testing.assert_close(d, torch.tensor([[0.1, 0.1, 0.8]]))


def test_kwls_aux_loss_equals_its_formula():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(6, 3, generator=g)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    d = torch.softmax(torch.randn(6, 3, generator=g), dim=1)
    alpha = 0.7
    ce = F.cross_entropy(logits, y)
    mse = ((d - torch.softmax(logits, dim=1)) ** 2).mean()
    want = (ce + alpha * mse) / (1 + alpha) ** 2
    torch.testing.assert_close(lsctl.losses.kwls_aux_loss(logits, y, d, alpha=alpha), want)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lsctl.losses.smoothed_targets([0], 2, 1.0), "rate=1.0 must be below 1"),
        (lambda: lsctl.losses.smoothed_targets([0], 2, -0.1, "k-1"), "rate=-0.1 is outside"),
        (lambda: lsctl.losses.smoothed_targets([2], 2, 0.1), "labels holds 2"),
        (
            lambda: lsctl.losses.soft_cross_entropy(torch.zeros(2, 3), torch.zeros(2, 2)),
            "targets has shape (2, 2)",
        ),
        (lambda: lsctl.losses.soft_label_loss("mse"), "unknown loss='mse'"),
        (
            lambda: lsctl.losses.soft_cross_entropy(torch.zeros(2), torch.zeros(2)),
            "logits must be (N, K): one row of K class scores per example, not shape (2,)",
        ),
    ],
)
def test_loss_errors_name_python_parameters(call, message):
    with pytest.raises(ParameterError, match=None) as e:
        call()
    assert message in str(e.value)


@pytest.mark.slow  # builds and fine-tunes a tiny transformer (about 8 s on 2 busy cores)
def test_hf_trainer_reads_the_soft_label_column(tmp_path):
    """pandas → lsctl.soft_labels → HF Trainer with the lsctl loss, on a tiny random BERT."""
    transformers = pytest.importorskip("transformers")
    from lsctl.losses import SoftLabelCollator, soft_label_loss

    torch.set_num_threads(1)
    (tmp_path / "bert").mkdir()
    model_dir = tiny_bert_dir(tmp_path / "bert", num_labels=len(LABELS))
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(model_dir)
    texts, gold = make_texts(24, seed=0)
    df = lsctl.soft_labels(pd.DataFrame({"text": texts, "label": gold}), "uniform", epsilon=0.2)
    rows = df[["text", "label", "soft_label"]].to_dict("records")

    # The loss on one collated batch equals soft cross-entropy written out by hand.
    collate = SoftLabelCollator(tok)
    batch = collate(rows[:4])
    want_d = np.stack(df["soft_label"][:4].to_list())
    np.testing.assert_allclose(batch["labels"].numpy(), want_d)
    loss_fn = soft_label_loss()
    with torch.no_grad():
        out = model(**{k: v for k, v in batch.items() if k != "labels"})
        got = loss_fn(out, batch["labels"])
        logp = torch.log_softmax(out.logits, dim=1)
        want = -(torch.tensor(want_d) * logp).sum(dim=1).mean()
    torch.testing.assert_close(got, want)
    # Accumulated: the batch's sum over the examples of all accumulated batches.
    torch.testing.assert_close(loss_fn(out, batch["labels"], num_items_in_batch=8 * 3), want / 2)

    # aux packs the gold label first; the loss is kwls_aux_loss.
    aux = SoftLabelCollator(tok, loss="aux", label_order=lsctl.label_order(df))
    abatch = aux(rows[:4])
    y = torch.tensor([LABELS.index(g) for g in gold[:4]])
    torch.testing.assert_close(abatch["labels"][:, 0].long(), y)
    with torch.no_grad():
        got = soft_label_loss("aux", alpha=0.5)(out, abatch["labels"])
    torch.testing.assert_close(
        got, lsctl.losses.kwls_aux_loss(out.logits, y, torch.tensor(want_d), 0.5)
    )

    before = [p.detach().clone() for p in model.parameters()]
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=8,
        num_train_epochs=1,
        learning_rate=1e-3,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        remove_unused_columns=False,
        disable_tqdm=True,
    )
    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=rows,
        data_collator=collate,
        compute_loss_func=loss_fn,
    )
    result = trainer.train()
    assert np.isfinite(result.training_loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
