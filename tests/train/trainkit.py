"""Tiny data and config helpers shared by the train tests."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

WORDS = {
    "food": ["pasta", "salad", "bread", "soup", "rice"],
    "sport": ["goal", "match", "team", "score", "coach"],
    "tech": ["chip", "code", "robot", "data", "laptop"],
}
LABELS = sorted(WORDS)


def make_texts(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Texts with 3 words of their class and 2 of any class: learnable, not trivial."""
    rng = np.random.default_rng(seed)
    every = [w for ws in WORDS.values() for w in ws]
    texts, gold = [], []
    for i in range(n):
        lab = LABELS[i % len(LABELS)]
        words = [*rng.choice(WORDS[lab], 3), *rng.choice(every, 2 + i % 4)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        gold.append(lab)
    return texts, gold


def write_dataset(path, n: int = 120, seed: int = 0, soft: np.ndarray | None = None):
    texts, gold = make_texts(n, seed)
    cols = {"text": texts, "label": gold}
    table = pa.table(cols)
    if soft is not None:
        flat = pa.array(np.asarray(soft, dtype=np.float32).reshape(-1))
        table = table.append_column(
            "soft_label", pa.FixedSizeListArray.from_arrays(flat, soft.shape[1])
        )
        # Soft labels carry their label order, as `lsctl softlabel` writes them:
        # without it lsctl refuses to guess the order of the vector's entries.
        from lsctl.artifacts import make_meta, write_artifact

        write_artifact(table, str(path), make_meta("softlabels", LABELS))
        return path
    pq.write_table(table, path)
    return path


def uniform_by_hand(gold: list[str], eps: float) -> np.ndarray:
    """(1-ε)·onehot + ε/K, written out independently of lsctl.smoothing."""
    k = len(LABELS)
    out = np.full((len(gold), k), eps / k)
    for i, g in enumerate(gold):
        out[i, LABELS.index(g)] += 1 - eps
    return out


def tiny_config(train, output, **kw):
    from lsctl.train.config import TrainConfig

    base = dict(
        train=str(train),
        output=str(output),
        model="textcnn",
        epochs=2,
        batch_size=16,
        embed_dim=16,
        max_length=16,
        device="cpu",
        seed=3,
    )
    base.update(kw)
    if base["model"].startswith("hf:") and "embed_dim" not in kw:
        del base["embed_dim"]  # an hf: model has its own (and refuses the option)
    return TrainConfig(**base)


def tiny_kim_config(train, output, **kw):
    """Kim's recipe (Adadelta, max-norm, full padding) at tiny_config's sizes."""
    return tiny_config(train, output, **kw).with_preset(
        "kim2014", keep={"epochs", "embed_dim", "max_length"}
    )


def tiny_bert_dir(d, num_labels: int):
    """Save a random-weight 2-layer BERT and its word-level tokenizer under ``d``.

    The tokenizer keeps transformers' default ``model_max_length`` (1e30), as
    many hub tokenizers do; the vocabulary is the synthetic dataset's words.
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = sorted(w for ws in WORDS.values() for w in ws)
    (d / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]))
    tok = BertTokenizerFast(vocab_file=str(d / "vocab.txt"), do_lower_case=True)
    assert tok.model_max_length > 1e20  # the export test relies on this default
    tok.save_pretrained(d)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(words) + 5,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=num_labels,
    )
    BertForSequenceClassification(config).save_pretrained(d)
    return d
