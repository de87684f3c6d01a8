"""KWLS and TF-IDF relevance of questions to candidate sentences (docs/retrieval.md).

Each training-fold sentence is a "label" whose class document is its own
text. The class side (WLC, WLW, WLR: :func:`lsctl.smoothing.relevance.word_label_terms`)
is fitted on the training-fold sentences, the instance side (WIW, X_avg) on the
training-fold questions; the vocabulary is the training-fold sentences' words.
Nothing here ever sees dev- or test-fold text.

The soft target of a question over a batch's candidates C is
``softmax(ILR(q, C) / X_avg)`` (:meth:`lsctl.smoothing.relevance.Fitted.targets`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from lsctl.errors import LsctlError
from lsctl.smoothing.relevance import (
    K1,
    K2,
    B,
    Fitted,
    check_params,
    word_instance_weight,
    word_label_terms,
)
from lsctl.text.counts import DocTerm, Vocabulary, count_batch
from lsctl.text.tokenize import TokenizerSpec

ROWS_PER_CHUNK = 512  # words per dense block of word_label_terms: 512 × 6,649 × 8 B = 27 MB


class CandidateRelevance:
    """Fitted statistics; :meth:`targets` scores question rows against candidate columns.

    Parameters
    ----------
    sentences : pa.Array
        The training-fold sentences (the candidates; column j is sentence j).
    questions : pa.Array
        The training-fold questions (WIW's document frequencies and X_avg).
    variant : {"kwls", "tfidf"}
    k1, b, k2 : float
        KWLS parameters (METHODS.md §1; the authors use 2, 0.75, 2).
    """

    def __init__(
        self,
        sentences: pa.Array | pa.ChunkedArray,
        questions: pa.Array | pa.ChunkedArray,
        variant: str = "kwls",
        k1: float = K1,
        b: float = B,
        k2: float = K2,
        spec: TokenizerSpec | None = None,
    ) -> None:
        import scipy.sparse as sp

        check_params(k1, b, k2)
        self.variant, self.k2 = variant, k2
        self.vocab = Vocabulary(spec or TokenizerSpec())
        ds = count_batch(sentences, self.vocab)
        self.vocab.frozen = True
        if ds.lengths.sum() == 0:
            raise LsctlError("the training-fold sentences have no tokens; nothing to fit")
        v, p = len(self.vocab), ds.n_docs
        by_word = ds.matrix.T.tocsr().astype(np.float64)  # V × p counts f(w, c)
        # word_label_terms is row-wise in the words (WLW counts the candidates
        # holding a word; S_avg is over every column), so blocks of rows with
        # every candidate column give exactly the full V × p result.
        blocks = []
        for start in range(0, v, ROWS_PER_CHUNK):
            dense = by_word[start : start + ROWS_PER_CHUNK].toarray()
            _, _, wlr = word_label_terms(dense, ds.lengths, k1, b, variant)
            blocks.append(sp.csr_matrix(wlr))
        self.wlr = sp.vstack(blocks).tocsc() if blocks else sp.csc_matrix((0, p))
        self.n_candidates = p
        dq = count_batch(questions, self.vocab)
        self.questions = dq
        df = np.bincount(dq.indices, minlength=v).astype(np.float64)
        self.wiw = word_instance_weight(df, dq.n_docs)
        self.x_avg = float(dq.lengths.mean()) if dq.n_docs else 0.0
        if self.x_avg <= 0:
            raise LsctlError("the training-fold questions have no tokens; nothing to fit")

    def fitted(self, columns: np.ndarray) -> Fitted:
        """The candidates ``columns`` as a K-label :class:`Fitted` (WLR dense V × K)."""
        wlr = np.asarray(self.wlr[:, np.asarray(columns)].todense())
        return Fitted(wlr, self.wiw, self.x_avg, self.k2, self.variant)

    def question_terms(self, rows: np.ndarray) -> DocTerm:
        return self.questions.take(np.asarray(rows))

    def ilr(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """ILR of training questions ``rows`` against training sentences ``columns``."""
        return self.fitted(columns).ilr(self.question_terms(rows))

    def targets(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """softmax(ILR / X_avg) of each question row over the candidate columns."""
        return self.fitted(columns).targets(self.question_terms(rows))

    def describe(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "candidates": self.n_candidates,
            "questions": self.questions.n_docs,
            "vocabulary": len(self.vocab),
            "x_avg": self.x_avg,
        }
