"""BM25 against a plain loop; the ReQA-SQuAD figure from SOURCE.md on the real data."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_dataset
from retrieval_kit import QUESTIONS, SENTENCES, bm25_plain

from lsctl.retrieval.bm25 import BM25


@pytest.mark.parametrize(("k1", "b"), [(1.2, 0.75), (2.0, 0.0), (0.5, 1.0)])
def test_scores_match_a_plain_loop(k1, b):
    import pyarrow as pa

    docs = [r[1] for r in SENTENCES] + ["cat cat cat mat", "Paris Paris capital"]
    qs = [r[1] for r in QUESTIONS] + ["cat cat Paris unknownword"]
    got = BM25(pa.array(docs), k1=k1, b=b).scores(pa.array(qs))
    np.testing.assert_allclose(got, bm25_plain(qs, docs, k1, b), rtol=1e-12, atol=1e-12)


@pytest.mark.slow
@pytest.mark.shared
def test_reqa_squad_whole_pool_reproduces_source_md():
    from lsctl.retrieval.api import bm25_rank

    d = shared_dataset("reqa_squad")
    _, meta, s = bm25_rank(str(d / "questions.parquet"), str(d / "sentences.parquet"), fold="all")
    assert (s["n"], s["pool_size"], meta["pool"]) == (10563, 10231, "all")
    # SOURCE.md: MRR 0.691, R@1 0.613, R@10 0.827.
    assert s["mrr"] == pytest.approx(0.691, abs=0.001)
    assert s["recall@1"] == pytest.approx(0.613, abs=0.001)
    assert s["recall@10"] == pytest.approx(0.827, abs=0.001)
