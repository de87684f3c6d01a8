"""Dual-encoder pieces against hand computations; no statistic sees test-fold text."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from retrieval_kit import write_folds

import lsctl.train  # noqa: F401  (lsctl's OpenMP default before torch)
from lsctl.errors import UsageError
from lsctl.retrieval.dual import (
    batch_candidates,
    batch_targets,
    hard_negative_pool,
    load_folds,
)
from lsctl.retrieval.dual_config import DualConfig
from lsctl.retrieval.relevance import CandidateRelevance


def test_batch_candidates_dedupe_golds_and_negatives():
    # Questions 0 and 2 share gold text group 7; negatives repeat a gold (5) and each other.
    cand, y = batch_candidates(np.array([7, 5, 7]), np.array([[5, 9], [3, 9], [7, 2]]))
    assert cand.tolist() == [7, 5, 9, 3, 2]
    assert y.tolist() == [0, 1, 0]
    cand, y = batch_candidates(np.array([4, 4]), None)
    assert cand.tolist() == [4] and y.tolist() == [0, 0]


def test_uniform_targets_by_hand():
    d = batch_targets("uniform", np.array([0, 2]), 4, epsilon=0.2)
    np.testing.assert_allclose(d, [[0.85, 0.05, 0.05, 0.05], [0.05, 0.05, 0.85, 0.05]])
    assert batch_targets("none", np.array([0]), 3) is None
    got = batch_targets("kwls", np.array([0]), 2, relevance=lambda: np.array([[0.3, 0.7]]))
    assert got.tolist() == [[0.3, 0.7]]


def test_options_are_checked_before_any_work():
    base = {"questions": "q", "sentences": "s", "output": "o"}
    with pytest.raises(UsageError, match="--teacher"):
        DualConfig(**base, targets="distill").validate()
    with pytest.raises(UsageError, match="--loss soft"):
        DualConfig(**base, targets="none", loss="soft").validate()
    with pytest.raises(UsageError, match="--targets kwls needs"):
        DualConfig(**base, targets="kwls", loss="ce").validate()
    with pytest.raises(UsageError, match="--temperature"):
        DualConfig(**base, temperature=0.0).validate()
    r = DualConfig(**base, score="dot", encoder="textcnn", targets="uniform").resolved()
    assert (r.temperature, r.lr, r.loss) == (1.0, 1e-3, "soft")
    r = DualConfig(**base, targets="kwls").resolved()
    assert (r.temperature, r.lr, r.loss, r.score) == (0.05, 1e-2, "aux", "cos")


def test_hard_negatives_are_bm25_top_non_gold(tmp_path):
    from lsctl.retrieval.bm25 import BM25

    q, s = write_folds(tmp_path)
    folds = load_folds(DualConfig(q, s, str(tmp_path / "run")))
    tr = folds.train
    pool = hard_negative_pool(tr, 3)
    scores = BM25(tr.pool_texts).scores(tr.question_texts)
    for i in range(tr.questions.num_rows):
        gold = tr.gold_group[i]
        assert gold not in pool[i]
        # The first pick is the best-scoring sentence outside the gold text group.
        other = np.flatnonzero(tr.pool_group != gold)
        best = other[np.argmax(scores[i, other])]
        assert pool[i, 0] == tr.pool_group[best]


def test_planted_test_only_word_is_never_fitted(tmp_path, cli):
    """A word only in test-fold text has no vocabulary entry anywhere training fits."""
    q, s = write_folds(tmp_path, planted="zanzibarite")
    folds = load_folds(DualConfig(q, s, str(tmp_path / "run")))
    assert "zanzibarite" not in " ".join(folds.train.pool_texts.to_pylist())
    for variant in ("kwls", "tfidf"):
        rel = CandidateRelevance(folds.train.pool_texts, folds.train.question_texts, variant)
        words = rel.vocab.words.to_pylist()
        assert "zanzibarite" not in words
        assert "traintopic3" in words  # a training word is there (the check can fail)
        # And it contributes nothing when a question holds it (frozen vocabulary).
        probe = CandidateRelevance(
            folds.train.pool_texts, pa.array(["zanzibarite traintopic3"]), variant
        )
        assert probe.questions.nnz == 1
    run = tmp_path / "run"
    res = cli("retrieve", "train", "--questions", q, "--sentences", s, "-o", run,
              "--targets", "kwls", "--epochs", "1", "--embed-dim", "4", "--quiet")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    vocab = json.loads((run / "vocab.json").read_text())["itos"]
    assert "zanzibarite" not in vocab and "devtopic1" not in vocab
    assert "traintopic3" in vocab
