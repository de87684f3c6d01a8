"""Streaming statistics are additive: batch by batch equals all at once."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa

from lsctl.smoothing.relevance import Stats, count_pass
from lsctl.text.tokenize import TokenizerSpec, tokenize

TEXTS = ["a b a", "b c", "c c d", "a d e e", "e", "b b b"]
LABELS = ["x", "y", "y", "x", "z", "z"]
ORDER = ["x", "y", "z"]


def _y(batch):
    return np.array([ORDER.index(v) for v in batch.column("label").to_pylist()])


def _batches(size):
    t = pa.table({"text": TEXTS, "label": LABELS})
    start = 0
    for b in t.to_batches(max_chunksize=size):
        yield start, b
        start += b.num_rows


def _as_dict(vocab, stats):
    words = vocab.words.to_pylist()
    f = {(w, ORDER[m]): c for (i, m), c in np.ndenumerate(stats.counts) if c for w in [words[i]]}
    return f, dict(zip(words, stats.df.tolist(), strict=True))


def test_batches_add_up_to_plain_counts():
    spec = TokenizerSpec("whitespace")
    one = count_pass(_batches(100), spec, ORDER, _y)
    two = count_pass(_batches(2), spec, ORDER, _y)
    expected_f = Counter()
    expected_df = Counter()
    for toks, lab in zip(tokenize(TEXTS, spec), LABELS, strict=True):
        for w in toks:
            expected_f[(w, lab)] += 1
        for w in set(toks):
            expected_df[w] += 1
    for res in (one, two):
        f, df = _as_dict(res.vocab, res.total)
        assert f == dict(expected_f)
        assert df == dict(expected_df)
        assert res.total.class_tokens.tolist() == [7.0, 5.0, 4.0]
        assert res.total.n_docs == 6
        assert res.total.x_avg == 16 / 6


def test_fold_statistics_are_total_minus_fold():
    spec = TokenizerSpec("whitespace")
    folds = np.array([0, 1, 0, 1, 0, 1])
    res = count_pass(_batches(4), spec, ORDER, _y, fold_of=folds, n_folds=2)
    for j in range(2):
        rest = [i for i in range(6) if folds[i] != j]
        only = count_pass(
            (
                (
                    0,
                    pa.table(
                        {"text": [TEXTS[i] for i in rest], "label": [LABELS[i] for i in rest]}
                    ).to_batches()[0],
                ),
            ),
            spec,
            ORDER,
            _y,
        )
        got: Stats = res.total.minus(res.folds[j])
        assert _as_dict(res.vocab, got)[0] == _as_dict(only.vocab, only.total)[0]
        assert got.n_docs == only.total.n_docs
        assert got.n_tokens == only.total.n_tokens
        np.testing.assert_array_equal(got.class_tokens, only.total.class_tokens)


def test_prefetched_keeps_order_and_raises_errors_in_the_caller():
    import threading

    import pytest

    from lsctl.text.counts import prefetched

    threads = set()

    def work(x):
        threads.add(threading.current_thread().name)
        return x + 1

    assert list(prefetched(iter(range(5)), work)) == [(i, i + 1) for i in range(5)]
    assert all(name.startswith("lsctl-prefetch") for name in threads)

    def items():
        yield 1
        raise ValueError("bad batch 2")

    got = []
    with pytest.raises(ValueError, match="bad batch 2"):
        for item, _ in prefetched(items(), work):
            got.append(item)
    assert got == [1]
    with pytest.raises(ZeroDivisionError):
        list(prefetched([1, 0], lambda x: 1 / x))
