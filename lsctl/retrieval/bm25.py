"""BM25 over a sentence pool: one sparse product, no training.

For a question q with distinct words W(q) and a candidate d,

    score(q, d) = Σ_{w ∈ W(q)} idf(w) · f(w,d)·(k1 + 1) / (f(w,d) + k1·(1 − b + b·|d|/avgdl))
    idf(w)      = ln(1 + (N − df(w) + 0.5) / (df(w) + 0.5))      (Robertson/Lucene, never < 0)

with N the pool size, df(w) the pool sentences containing w, |d| the tokens of
d and avgdl their mean. A word repeated in the question counts once. The
statistics are the pool's own: BM25 indexes what it searches and is never
trained.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from lsctl.smoothing.relevance import K_MAX
from lsctl.text.counts import Vocabulary, count_batch
from lsctl.text.tokenize import TokenizerSpec
from lsctl.validation import check_range


def check_params(k1: float, b: float) -> None:
    """Refuse a BM25 k1 outside (0, K_MAX] or b outside [0, 1]."""
    check_range("k1", k1, low=0, low_open=True, high=K_MAX, hint="(BM25's usual value is 1.2)")
    check_range("b", b, low=0, high=1, hint="(BM25's usual value is 0.75)")


class BM25:
    """A BM25 index of a pool of texts; :meth:`scores` gives questions × pool."""

    def __init__(
        self,
        pool: pa.Array | pa.ChunkedArray,
        k1: float = 1.2,
        b: float = 0.75,
        spec: TokenizerSpec | None = None,
    ) -> None:
        import scipy.sparse as sp

        check_params(k1, b)
        self.spec = spec or TokenizerSpec()
        self.vocab = Vocabulary(self.spec)
        dt = count_batch(pool, self.vocab)
        self.vocab.frozen = True
        n = dt.n_docs
        self.n_words = len(self.vocab)
        df = np.bincount(dt.indices, minlength=self.n_words).astype(np.float64)
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5))
        avgdl = dt.lengths.mean() if n else 0.0
        f = dt.data.astype(np.float64)
        norm = 1.0 - b + b * dt.lengths / avgdl if avgdl > 0 else np.ones(n)
        weight = f * (k1 + 1.0) / (f + k1 * norm[dt.row_ids()]) * self.idf[dt.indices]
        # pool × words, transposed once so each question block is one CSR product.
        self.doc_weights = sp.csr_matrix(
            (weight, dt.indices, dt.indptr), shape=(n, self.n_words)
        ).T.tocsr()

    def query_matrix(self, texts: pa.Array | pa.ChunkedArray) -> Any:
        """Questions × words, 1 where the question holds the word (words outside the pool drop)."""
        dt = count_batch(texts, self.vocab)
        m = dt.resized(self.n_words).astype(np.float64)
        m.data[:] = 1.0
        return m

    def scores(self, texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Dense questions × pool BM25 scores (float64)."""
        return np.asarray((self.query_matrix(texts) @ self.doc_weights).todense())
