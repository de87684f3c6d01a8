"""Gold ranks, top-k and Recall@k/MRR against hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest
from retrieval_kit import write_toy

from lsctl.retrieval.data import load_corpus
from lsctl.retrieval.rank import gold_ranks, metrics, rank_corpus, top_k

# Rows: questions q0..q4 of the toy; columns: pool s0..s5 (s2 and s4 share a text).
SCORES = np.array(
    [
        [0.9, 0.1, 0.5, 0.3, 0.5, 0.0],  # q0, gold s0: best -> rank 1
        [0.8, 0.1, 0.2, 0.7, 0.75, 0.0],  # q1, gold s2 = s4 (0.75): only 0.8 above -> 2
        [0.6, 0.5, 0.4, 0.3, 0.2, 0.1],  # q2, gold s5: last -> 6
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # q3, gold s3: all tied, s0..s2 first -> 4
        [0.5, 0.5, 0.9, 0.1, 0.1, 0.5],  # q4, gold s1: s2 above, s0 tied earlier -> 3
    ]
)
HAND_RANKS = [1, 2, 6, 4, 3]


def test_gold_ranks_by_hand_with_duplicate_text(tmp_path):
    q, s = write_toy(tmp_path)
    corpus = load_corpus(q, s, "all", "all")
    ranked = rank_corpus(corpus, lambda rows: SCORES[rows], k=3)
    assert ranked.ranks.tolist() == HAND_RANKS
    m = metrics(ranked.ranks)
    assert m["recall@1"] == pytest.approx(1 / 5)
    assert m["recall@5"] == pytest.approx(4 / 5)
    assert m["recall@10"] == pytest.approx(1.0)
    assert m["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 6 + 1 / 4 + 1 / 3) / 5)
    rows = ranked.table.to_pylist()
    assert rows[4]["top_ids"] == ["s2", "s0", "s1"]  # 0.9, then the 0.5 ties in pool order
    assert rows[1]["top_ids"] == ["s0", "s4", "s3"]
    assert rows[1]["gold_id"] == "s2"
    assert rows[4]["top_scores"] == pytest.approx([0.9, 0.5, 0.5])


def test_exact_gold_only_would_rank_lower():
    # Without the duplicate-text rule, q1's gold s2 (0.2) would be 4th: the rule matters.
    gold_exact = np.zeros((1, 6), bool)
    gold_exact[0, 2] = True
    assert gold_ranks(SCORES[1:2], gold_exact).tolist() == [4]


def test_gold_rank_equals_position_in_a_stable_full_sort():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 4, size=(40, 30)).astype(float)  # many ties
    gold = rng.random((40, 30)) < 0.1
    gold[np.arange(40), rng.integers(0, 30, 40)] = True
    order = np.argsort(-s, axis=1, kind="stable")
    want = [1 + int(np.flatnonzero(gold[i, order[i]])[0]) for i in range(40)]
    assert gold_ranks(s, gold).tolist() == want
    np.testing.assert_array_equal(top_k(s, 7), order[:, :7])
    np.testing.assert_array_equal(top_k(s, 30), order)


def test_nan_scores_are_an_error():
    from lsctl.errors import LsctlError

    s = SCORES[:1].copy()
    s[0, 3] = np.nan
    with pytest.raises(LsctlError, match="NaN"):
        gold_ranks(s, np.eye(6, dtype=bool)[:1])


def test_fold_pool_ranks_never_exceed_whole_pool_ranks(tmp_path):
    q, s = write_toy(tmp_path)
    whole = load_corpus(q, s, "test", "all")
    fold = load_corpus(q, s, "test", "fold")
    assert fold.pool.column("sentence_id").to_pylist() == ["s2", "s3", "s4"]
    ids = {x: i for i, x in enumerate(whole.pool.column("sentence_id").to_pylist())}
    keep = [ids[x] for x in fold.pool.column("sentence_id").to_pylist()]
    rows_q = [1, 3]  # the test-fold questions q1 and q3
    r_all = rank_corpus(whole, lambda rows: SCORES[rows_q][rows], 2).ranks
    r_fold = rank_corpus(fold, lambda rows: SCORES[rows_q][rows][:, keep], 2).ranks
    assert r_all.tolist() == [2, 4]
    assert r_fold.tolist() == [1, 2]  # q1: s4 best of {s2,s3,s4}; q3: s3 after s2 (tie, order)
