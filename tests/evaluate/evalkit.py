"""A tiny three-class dataset shared by the eval tests that train a run."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

WORDS = {
    "food": ["pasta", "salad", "bread", "soup"],
    "sport": ["goal", "match", "team", "score"],
    "tech": ["chip", "code", "robot", "data"],
}


def three_class_dataset(path, n, seed):
    """``n`` texts of 2 words of their class and 3 of any class, labels in turn; written to ``path``."""
    rng = np.random.default_rng(seed)
    every = [w for ws in WORDS.values() for w in ws]
    labels = list(WORDS)
    texts, gold = [], []
    for i in range(n):
        lab = labels[i % 3]
        texts.append(" ".join([*rng.choice(WORDS[lab], 2), *rng.choice(every, 3)]))
        gold.append(lab)
    pq.write_table(pa.table({"text": texts, "label": gold}), path)
    return path
