"""Tokenizers shared by keywords, soft labels and the TextCNN/LSTM vocabularies.

Two tokenizers:

- ``words`` (default): maximal runs of Unicode letters, digits and ``_``
  (Python's ``\\w+``), lowercased by default.
- ``whitespace``: exactly the KWLS authors' ``text.split(' ')``: no
  lowercasing by default, punctuation stays attached, and double spaces give
  empty tokens that count towards lengths. It exists so results can be
  compared with the authors' script.

Lowercasing applies to each token with Unicode's simple case mapping (what
Arrow's ``utf8_lower`` does). It equals Python's ``str.lower`` except for the
few characters whose full mapping differs, such as 'İ' and a final 'Σ'.

``tokenize`` is the plain-Python definition (lists of strings). The counting
code in :mod:`lsctl.text.counts` gets the same tokens through NumPy and Arrow
kernels; tests hold the two to each other.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from typing import Any

from lsctl.errors import LsctlError, UsageError

TOKENIZERS = ("words", "whitespace")
STOPWORD_CHOICES = ("english", "none")

# Python's str \w is letters (L*), numbers (N*) and '_'; RE2 (Arrow) spells
# that class explicitly because its own \w is ASCII-only (used by `data info`).
WORD_RE = re.compile(r"\w+")
WORD_RE2 = r"[\p{L}\p{N}_]+"
NON_WORD_RE2 = r"[^\p{L}\p{N}_]+"


@dataclass(frozen=True)
class TokenizerSpec:
    """How text becomes tokens; stored in artifact metadata via ``to_dict``."""

    name: str = "words"  # words | whitespace
    lowercase: bool | None = None  # None: True for words, False for whitespace
    stopwords: str = "none"  # english | none | path to a file, one word per line

    def __post_init__(self) -> None:
        if self.name not in TOKENIZERS:
            raise UsageError(
                f"unknown tokenizer {self.name!r}; --tokenizer takes one of {', '.join(TOKENIZERS)}"
            )
        if self.stopwords not in STOPWORD_CHOICES and not os.path.isfile(self.stopwords):
            raise UsageError(
                f"--stopwords {self.stopwords!r}: not 'english', 'none' or an existing file "
                "(one word per line)"
            )

    @property
    def lower(self) -> bool:
        """The effective lowercasing choice."""
        if self.lowercase is None:
            return self.name == "words"
        return self.lowercase

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["lowercase"] = self.lower
        if self.stopwords not in STOPWORD_CHOICES:
            d["stopwords"] = os.path.abspath(self.stopwords)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> TokenizerSpec:
        d = d or {}
        return cls(
            name=d.get("name", "words"),
            lowercase=d.get("lowercase"),
            stopwords=d.get("stopwords", "none"),
        )

    def stopword_set(self) -> frozenset[str]:
        """Stopwords, compared against lowercased tokens."""
        if self.stopwords == "none":
            return frozenset()
        if self.stopwords == "english":
            from lsctl.text.stopwords import ENGLISH

            return ENGLISH
        try:
            with open(self.stopwords, encoding="utf-8") as f:
                return frozenset(w.strip().lower() for w in f if w.strip())
        except (OSError, UnicodeDecodeError) as e:
            raise LsctlError(f"--stopwords {self.stopwords}: cannot read ({e})") from e


def tokenize(texts: Any, spec: TokenizerSpec = TokenizerSpec()) -> list[list[str]]:
    """Tokens of each text (a list of str or a pyarrow string array; None → no tokens).

    Stopwords are dropped; ``--min-count`` is a vocabulary filter and is
    applied by the counting code, not here.
    """
    if hasattr(texts, "to_pylist"):
        texts = texts.to_pylist()
    stop = spec.stopword_set()
    out: list[list[str]] = []
    for text in texts:
        if text is None:
            out.append([])
            continue
        toks = text.split(" ") if spec.name == "whitespace" else WORD_RE.findall(text)
        if spec.lower:
            toks = [t.lower() for t in toks]
        if stop:
            toks = [t for t in toks if t.lower() not in stop]
        out.append(toks)
    return out
