"""blank_texts: the one rule for an empty text, checked against the plain definition.

A text is blank when it is null or nothing is left after trimming Unicode
whitespace. The implementation trims only the texts that could be blank; the
reference here trims every one.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from lsctl.artifacts.columns import blank_texts

# Whitespace of several kinds (ASCII, NBSP, ideographic space, line separators, the
# \x1c–\x1f separators, a zero-width space that is not whitespace), mixed with words.
ALPHABET = st.sampled_from(list(" \t\n\r\x0b\x0c\x1c\x1f\u00a0\u2028\u3000\u200bab é"))
TEXT = st.one_of(st.none(), st.text(alphabet=ALPHABET, max_size=6))


def _reference(values: list[str | None]) -> np.ndarray:
    trimmed = pc.utf8_trim_whitespace(pa.array(values, pa.string()))
    return np.array([t is None or len(t) == 0 for t in trimmed.to_pylist()], dtype=bool)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, max_size=40), st.integers(0, 3))
def test_blank_texts_equals_trimming_every_text(values, cut):
    # Chunked and sliced inputs too: offsets must be honoured.
    arr = pa.array(values, pa.string())
    chunked = pa.chunked_array([arr.slice(0, cut), arr.slice(cut)], pa.string())
    expected = _reference(values)
    assert blank_texts(arr, "x").tolist() == expected.tolist()
    assert blank_texts(chunked, "x").tolist() == expected.tolist()
    if len(values) > 1:
        assert blank_texts(arr.slice(1), "x").tolist() == expected[1:].tolist()


def test_blank_texts_by_hand():
    values = ["", None, "  ", " a", "a ", "\u00a0", "\u3000x", "\t\n", "ok", "\x1c"]
    got = blank_texts(pa.array(values, pa.string()), "x").tolist()
    # \x1c (a file separator) counts as whitespace for Arrow's trim, as for str.isspace.
    assert got == [True, True, True, False, False, True, False, True, False, True]
