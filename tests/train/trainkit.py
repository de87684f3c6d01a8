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
    return TrainConfig(**base)
