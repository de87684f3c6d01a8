"""Token counting through Arrow kernels: one record batch at a time.

A batch of texts becomes a sparse doc×word count matrix over a growing
:class:`Vocabulary`, plus per-document token counts. Everything derived from
it (class×word counts, document frequencies, token totals) is a sum over
batches, so a pass over a large file holds O(V·K) plus one batch.

Tokens are the ones :func:`lsctl.text.tokenize.tokenize` defines; Arrow's
RE2 kernels produce them without a Python loop over tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lsctl.text.tokenize import NON_WORD_RE2, TokenizerSpec

STOP = -1
UNKNOWN = -2


@dataclass
class DocTerm:
    """Counts for one batch: ``matrix`` is n_docs×V (scipy CSR, float64 counts)."""

    matrix: Any
    lengths: np.ndarray  # tokens per document (after stopwords), float64

    @property
    def n_docs(self) -> int:
        return self.matrix.shape[0]

    def resized(self, n_words: int) -> Any:
        """The matrix with ``n_words`` columns (the vocabulary only grows)."""
        m = self.matrix
        if m.shape[1] == n_words:
            return m
        import scipy.sparse as sp

        return sp.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], n_words))


class Vocabulary:
    """Word → id, append-only, so ids from earlier batches stay valid."""

    def __init__(self, spec: TokenizerSpec, words: pa.Array | None = None, frozen: bool = False):
        self.spec = spec
        self._stop = spec.stopword_set()
        self._chunks: list[pa.Array] = []
        self._words: pa.Array = pa.array([], pa.large_string())
        self._size = 0
        self.frozen = frozen
        if words is not None:
            self._append(words.cast(pa.large_string()))

    def __len__(self) -> int:
        return self._size

    @property
    def words(self) -> pa.Array:
        if len(self._chunks) > 1:
            self._words = pa.concat_arrays(self._chunks)
            self._chunks = [self._words]
        return self._chunks[0] if self._chunks else self._words

    def _append(self, new: pa.Array) -> None:
        self._chunks.append(new)
        self._size += len(new)

    def lookup(self, dictionary: pa.Array) -> np.ndarray:
        """Global ids of a batch dictionary's entries: ``STOP`` for stopwords,
        ``UNKNOWN`` for words a frozen vocabulary does not hold.

        New words are added unless the vocabulary is frozen (applying fitted
        statistics to new data).
        """
        dictionary = dictionary.cast(pa.large_string())
        if self._size:
            found = pc.fill_null(pc.index_in(dictionary, value_set=self.words), UNKNOWN)
            out = found.to_numpy(zero_copy_only=False).astype(np.int64)
        else:
            out = np.full(len(dictionary), UNKNOWN, dtype=np.int64)
        if self._stop:
            lowered = dictionary if self.spec.lower else pc.utf8_lower(dictionary)
            is_stop = pc.is_in(lowered, value_set=pa.array(sorted(self._stop), pa.large_string()))
            out[is_stop.to_numpy(zero_copy_only=False)] = STOP
        if not self.frozen:
            new_pos = np.flatnonzero(out == UNKNOWN)
            if len(new_pos):
                out[new_pos] = self._size + np.arange(len(new_pos))
                self._append(dictionary.take(pa.array(new_pos)))
        return out


def split_tokens(texts: pa.Array | pa.ChunkedArray, spec: TokenizerSpec) -> tuple[np.ndarray, Any]:
    """All tokens of a batch: (document index per token, dictionary-encoded tokens).

    Null texts have no tokens.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        texts = texts.cast(pa.string())
    if spec.lower:
        texts = pc.utf8_lower(texts)
    if spec.name == "whitespace":
        lists = pc.split_pattern(texts, " ")
    else:
        lists = pc.split_pattern_regex(texts, NON_WORD_RE2)
    parents = pc.list_parent_indices(lists)
    flat = pc.list_flatten(lists)
    if spec.name != "whitespace":
        # Splitting on separators leaves "" where a text starts or ends with one.
        keep = pc.greater(pc.binary_length(flat), 0)
        flat = pc.filter(flat, keep)
        parents = pc.filter(parents, keep)
    encoded = pc.dictionary_encode(flat)
    return parents.to_numpy(zero_copy_only=False), encoded


def count_batch(texts: pa.Array | pa.ChunkedArray, vocab: Vocabulary) -> DocTerm:
    """Doc×word counts of one batch of texts over ``vocab`` (which may grow)."""
    import scipy.sparse as sp

    n = len(texts)
    parents, encoded = split_tokens(texts, vocab.spec)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    ids = vocab.lookup(encoded.dictionary)
    word = ids[encoded.indices.to_numpy(zero_copy_only=False)]
    # Stopwords are not tokens; words unknown to a frozen vocabulary still are.
    is_token = word != STOP
    lengths = np.bincount(parents[is_token], minlength=n).astype(np.float64)
    known = word >= 0
    if not known.all():
        word, parents = word[known], parents[known]
    matrix = sp.csr_matrix(
        (np.ones(len(word), dtype=np.float64), (parents, word)), shape=(n, len(vocab))
    )
    matrix.sum_duplicates()
    return DocTerm(matrix, lengths)
