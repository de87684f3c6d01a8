"""The NumPy CSR counts agree with SciPy's sparse matrices."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

import lsctl.smoothing.relevance as rel
from lsctl.text.counts import Vocabulary, count_batch
from lsctl.text.tokenize import TokenizerSpec


def _random_texts(n, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(200)]
    return [" ".join(rng.choice(words, size=rng.integers(0, 30))) for _ in range(n)]


def test_counts_match_scipy_coo_sum_and_rows_take():
    texts = _random_texts(3000)
    vocab = Vocabulary(TokenizerSpec())
    dt = count_batch(pa.array(texts), vocab)
    words = vocab.words.to_pylist()
    index = {w: i for i, w in enumerate(words)}
    r = [i for i, t in enumerate(texts) for _ in t.split()]
    c = [index[w] for t in texts for w in t.split()]
    expected = sp.coo_matrix((np.ones(len(c)), (r, c)), shape=(len(texts), len(words))).tocsr()
    expected.sum_duplicates()
    np.testing.assert_array_equal(dt.indptr, expected.indptr)
    np.testing.assert_array_equal(dt.indices, expected.indices)
    np.testing.assert_array_equal(dt.data, expected.data)
    rows = np.array([5, 0, 2999, 17, 17, 1])
    sub = dt.take(rows)
    assert (sub.matrix != expected[rows]).nnz == 0
    np.testing.assert_array_equal(sub.lengths, dt.lengths[rows])


def test_ilr_equals_scipy_product_bit_for_bit():
    texts = [*_random_texts(500, seed=1), ""]
    y = np.arange(len(texts)) % 5
    vocab = Vocabulary(TokenizerSpec())
    dt = count_batch(pa.array(texts), vocab)
    stats = rel.Stats.zeros(len(vocab), 5)
    stats.add(dt, y)
    fit = rel.Fitted.from_stats(stats, 2.0, 0.75, 2.0, "kwls", None)
    m = dt.matrix.astype(np.float64)
    m.data = m.data * 2.0 / (m.data + 2.0) * fit.wiw[m.indices]
    expected = np.asarray(m @ fit.wlr)
    assert np.array_equal(fit.ilr(dt), expected)
