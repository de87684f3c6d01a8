"""Toy ReQA artifacts and plain-loop references for the retrieval tests."""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq

from lsctl.text.tokenize import tokenize

# Six sentences; s2 and s4 have the same text (so either is the gold of q1).
SENTENCES = [
    ("s0", "The cat sat on the mat.", "train"),
    ("s1", "Dogs chase cats in the park.", "train"),
    ("s2", "Paris is the capital of France.", "test"),
    ("s3", "The Seine flows through Paris and the city.", "test"),
    ("s4", "Paris is the capital of France.", "test"),
    ("s5", "Mountains are tall and cold in winter.", "dev"),
]
QUESTIONS = [
    ("q0", "Where did the cat sit?", "s0", "train"),
    ("q1", "What is the capital of France?", "s2", "test"),
    ("q2", "Which mountains are cold?", "s5", "dev"),
    ("q3", "What flows through Paris?", "s3", "test"),
    ("q4", "What do dogs chase?", "s1", "train"),
]


def write_toy(folder) -> tuple[str, str]:
    """questions.parquet and sentences.parquet in ``folder``; returns their paths."""
    q, s = folder / "questions.parquet", folder / "sentences.parquet"
    pq.write_table(
        pa.table(
            {
                "sentence_id": [r[0] for r in SENTENCES],
                "sentence": [r[1] for r in SENTENCES],
                "fold": [r[2] for r in SENTENCES],
            }
        ),
        s,
    )
    pq.write_table(
        pa.table(
            {
                "qid": [r[0] for r in QUESTIONS],
                "question": [r[1] for r in QUESTIONS],
                "sentence_id": [r[2] for r in QUESTIONS],
                "fold": [r[3] for r in QUESTIONS],
            }
        ),
        q,
    )
    return str(q), str(s)


def bm25_plain(questions: list[str], docs: list[str], k1: float, b: float) -> list[list[float]]:
    """BM25 by the textbook loop: Lucene idf, each distinct question word once."""
    toks = tokenize(docs)
    n = len(docs)
    avgdl = sum(len(t) for t in toks) / n
    df: dict[str, int] = {}
    for t in toks:
        for w in set(t):
            df[w] = df.get(w, 0) + 1
    out = []
    for q in tokenize(questions):
        row = []
        for t in toks:
            score = 0.0
            for w in set(q):
                f = t.count(w)
                if f == 0:
                    continue
                idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
                score += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len(t) / avgdl))
            row.append(score)
        out.append(row)
    return out


def write_folds(folder, planted: str | None = None) -> tuple[str, str]:
    """A synthetic ReQA corpus with train/dev/test folds, in the real files' layout.

    Each topic word appears in one sentence and in its questions; ``planted``,
    when given, is added to every test-fold sentence and question only.
    """
    filler = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta"]
    sents, qs = [], []
    for fold, n in (("train", 24), ("dev", 8), ("test", 8)):
        for i in range(n):
            topic = f"{fold}topic{i}"
            extra = f" {planted}" if planted and fold == "test" else ""
            sid = f"{fold}-s{i}"
            words = " ".join(filler[(i + j) % len(filler)] for j in range(4))
            sents.append((sid, f"The {topic} is {words}{extra}.", fold))
            for j in range(2):
                qs.append((f"{fold}-q{i}-{j}", f"What is {topic} {filler[j]}{extra}?", sid, fold))
    # Two train sentences share a text (and so the gold of each other's questions).
    sents[1] = (sents[1][0], sents[0][1], "train")
    q, s = folder / "questions.parquet", folder / "sentences.parquet"
    pq.write_table(
        pa.table(
            {
                "sentence_id": [r[0] for r in sents],
                "sentence": [r[1] for r in sents],
                "fold": [r[2] for r in sents],
            }
        ),
        s,
    )
    pq.write_table(
        pa.table(
            {
                "qid": [r[0] for r in qs],
                "question": [r[1] for r in qs],
                "sentence_id": [r[2] for r in qs],
                "fold": [r[3] for r in qs],
            }
        ),
        q,
    )
    return str(q), str(s)
