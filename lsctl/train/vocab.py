"""The TextCNN/LSTM vocabulary, built from TRAIN with the lsctl/text tokenizers."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from lsctl.errors import LsctlError

PAD, UNK = "<pad>", "<unk>"


@dataclass
class Vocab:
    itos: list[str]
    tokenizer: dict[str, Any]  # TokenizerSpec.to_dict()

    def __post_init__(self) -> None:
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def spec(self) -> Any:
        from lsctl.text.tokenize import TokenizerSpec

        return TokenizerSpec.from_dict(self.tokenizer)

    def tokenize(self, texts: list[str]) -> list[list[str]]:
        from lsctl.text.tokenize import tokenize

        return tokenize(texts, self.spec())

    def encode(self, tokens: list[list[str]]) -> list[list[int]]:
        get, unk = self.stoi.get, self.stoi[UNK]
        # A text with no tokens still needs one position for the models' pooling.
        return [[get(t, unk) for t in toks] or [unk] for toks in tokens]

    def save(self, path: str) -> None:
        from lsctl.artifacts.io import atomic_path

        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            json.dump({"tokenizer": self.tokenizer, "itos": self.itos}, f, ensure_ascii=False)

    @classmethod
    def load(cls, path: str) -> Vocab:
        try:
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
            return cls(list(d["itos"]), dict(d["tokenizer"]))
        except (OSError, ValueError, KeyError) as e:
            raise LsctlError(f"{path}: cannot read the vocabulary ({e})") from e


def build_vocab(tokens: list[list[str]], spec: Any, max_size: int, min_count: int = 1) -> Vocab:
    """Most frequent tokens first (ties by token, so it is deterministic); 0=pad, 1=unk."""
    counts = Counter(t for toks in tokens for t in toks)
    kept = sorted(
        (t for t, n in counts.items() if n >= min_count and t not in (PAD, UNK)),
        key=lambda t: (-counts[t], t),
    )
    return Vocab([PAD, UNK, *kept[: max(max_size - 2, 0)]], spec.to_dict())
