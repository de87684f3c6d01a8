"""Tokenizers: the plain-Python definition and the Arrow/NumPy counting path agree."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

from lsctl.errors import LsctlError
from lsctl.text.counts import Vocabulary, count_batch
from lsctl.text.tokenize import TokenizerSpec, tokenize

TEXTS = [
    "Hello, World!  Hello again_1 -- x",
    "  leading and trailing  ",
    "",
    None,
    "Ünïcödé wörds: déjà-vu, naïve café; ÉCOLE — über 3½ ²",
    "tabs\tand\nnewlines\r\nhere",
    "a  b   c",
    "The cat and THE dog",
]


def _counted(texts, spec):
    vocab = Vocabulary(spec)
    dt = count_batch(pa.array(texts, pa.string()), vocab)
    words = vocab.words.to_pylist()
    m = dt.matrix.tocsr()
    bags = []
    for i in range(m.shape[0]):
        row = m[i]
        bags.append(Counter({words[j]: int(v) for j, v in zip(row.indices, row.data, strict=True)}))
    return bags, dt.lengths


SPECS = [
    TokenizerSpec(),
    TokenizerSpec("words", lowercase=False),
    TokenizerSpec("whitespace"),
    TokenizerSpec("whitespace", lowercase=True),
    TokenizerSpec("words", stopwords="english"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.name}-{s.lower}-{s.stopwords}")
def test_counting_path_matches_definition(spec):
    bags, lengths = _counted(TEXTS, spec)
    expected = tokenize(TEXTS, spec)
    assert bags == [Counter(t) for t in expected]
    assert lengths.tolist() == [len(t) for t in expected]


def test_words_is_python_word_regex_lowercased():
    text = "Ünïcödé wörds: déjà-vu, naïve café; ÉCOLE — über 3½ ² x_1"
    assert tokenize([text]) == [re.findall(r"\w+", text.lower())]


def test_whitespace_is_the_authors_split():
    texts = ["a  b ", " x", "", "Punct, stays."]
    assert tokenize(texts, TokenizerSpec("whitespace")) == [t.split(" ") for t in texts]
    bags, lengths = _counted(texts, TokenizerSpec("whitespace"))
    assert bags == [Counter(t.split(" ")) for t in texts]
    assert lengths.tolist() == [3 + 1, 2, 1, 2]


def test_stopwords_compare_lowercased_even_without_lowercasing():
    spec = TokenizerSpec("words", lowercase=False, stopwords="english")
    assert tokenize(["The Cat and the dog"], spec) == [["Cat", "dog"]]
    bags, lengths = _counted(["The Cat and the dog"], spec)
    assert bags == [Counter({"Cat": 1, "dog": 1})]
    assert lengths.tolist() == [2]


def test_stopword_file(tmp_path):
    path = tmp_path / "stop.txt"
    path.write_text("cat\nDOG\n\n")
    spec = TokenizerSpec(stopwords=str(path))
    assert tokenize(["the cat and the Dog"], spec) == [["the", "and", "the"]]


def test_spec_roundtrip_and_errors(tmp_path):
    spec = TokenizerSpec("whitespace", lowercase=None, stopwords="english")
    d = spec.to_dict()
    assert d == {"name": "whitespace", "lowercase": False, "stopwords": "english"}
    assert TokenizerSpec.from_dict(d).lower is False
    assert TokenizerSpec.from_dict(None) == TokenizerSpec()
    with pytest.raises(LsctlError, match="unknown tokenizer"):
        TokenizerSpec("bpe")
    with pytest.raises(LsctlError, match="--stopwords"):
        TokenizerSpec(stopwords=str(tmp_path / "missing.txt"))


def test_threaded_split_gives_the_same_ids_as_one_piece(monkeypatch):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 12))) for _ in range(5000)]
    import lsctl.text.counts as counts

    monkeypatch.setattr(counts, "_threads", lambda: 1)
    v1 = Vocabulary(TokenizerSpec())
    one = count_batch(pa.array(texts), v1)
    monkeypatch.setattr(counts, "_threads", lambda: 3)
    v3 = Vocabulary(TokenizerSpec())
    three = count_batch(pa.array(texts), v3)
    assert v1.words.to_pylist() == v3.words.to_pylist()
    assert (one.matrix != three.matrix).nnz == 0
    np.testing.assert_array_equal(one.lengths, three.lengths)


@pytest.mark.parametrize("spec", SPECS[:3], ids=lambda s: f"{s.name}-{s.lower}")
def test_slices_count_their_own_texts_only(monkeypatch, spec):
    # A slice shares its parent's byte buffer; each thread's share and each
    # sliced input must count its own texts, not the bytes around them.
    import lsctl.text.counts as counts

    monkeypatch.setattr(counts, "_MIN_SPLIT", 1)
    monkeypatch.setattr(counts, "_threads", lambda: 3)
    texts = TEXTS * 3
    whole = pa.array(texts, pa.string())
    for start, size in [(0, 24), (1, 7), (4, 9), (5, 1), (13, 11), (23, 1)]:
        part = texts[start : start + size]
        vocab = Vocabulary(spec)
        dt = count_batch(whole.slice(start, size), vocab)
        words = vocab.words.to_pylist()
        m = dt.matrix.tocsr()
        bags = [
            Counter({words[j]: int(v) for j, v in zip(m[i].indices, m[i].data, strict=True)})
            for i in range(m.shape[0])
        ]
        expected = tokenize(part, spec)
        assert bags == [Counter(t) for t in expected], (start, size)
        assert dt.lengths.tolist() == [len(t) for t in expected]


def test_frozen_vocabulary_ignores_new_words_but_counts_them_as_tokens():
    spec = TokenizerSpec()
    vocab = Vocabulary(spec, pa.array(["a", "b"]), frozen=True)
    dt = count_batch(pa.array(["a c c b a", "zzz"]), vocab)
    assert len(vocab) == 2
    assert dt.matrix.toarray().tolist() == [[2, 1], [0, 0]]
    assert dt.lengths.tolist() == [5, 1]


def test_frozen_vocabulary_with_stopwords_matches_the_definition_per_document():
    # Stopwords leave both counts and lengths; unknown words leave counts only.
    # Documents whose dropped tokens sit first, last, or make up the whole text
    # (where the per-document subtraction meets its edges).
    spec = TokenizerSpec("words", stopwords="english")
    texts = ["the cat zzz", "--dog the", "", "cat dog zzz yyy cat", "the and of", "zzz the"]
    vocab = Vocabulary(spec, pa.array(["cat", "dog"]), frozen=True)
    dt = count_batch(pa.array(texts), vocab)
    expected = tokenize(texts, spec)
    rows = dt.matrix.toarray().tolist()
    assert rows == [[t.count("cat"), t.count("dog")] for t in expected]
    assert dt.lengths.tolist() == [len(t) for t in expected]
    assert dt.lengths.tolist() == [2, 1, 0, 5, 0, 1]


def test_english_stopwords_are_sklearns_list():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    assert TokenizerSpec(stopwords="english").stopword_set() == ENGLISH_STOP_WORDS


def test_words_split_gives_python_regex_tokens_in_order_on_slices():
    """Token sequences, not only bags: texts that touch (no separator between one
    text's last word and the next one's first), nulls, astral characters, slices."""
    from lsctl.text.counts import split_tokens

    texts = ["end", "start", "", "x", None, "y_1", "naïve😀café", "𝐀𝐁 ok", "—", "日本語テキスト"]
    whole = pa.array(["pad", *texts, "tail"], pa.string())
    for arr in (whole.slice(1, len(texts)), pa.array(texts, pa.large_string())):
        per_text, enc = split_tokens(arr, TokenizerSpec("words", lowercase=False))
        tokens = iter(enc.dictionary.take(enc.indices).to_pylist())
        # The splitter may leave "" at a text's edges; the vocabulary lookup drops it.
        got = [[w for w in itertools.islice(tokens, n) if w] for n in per_text.tolist()]
        assert got == [re.findall(r"\w+", t) if t is not None else [] for t in texts]
        assert next(tokens, None) is None
