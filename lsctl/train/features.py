"""Texts → padded id tensors, once per run (never once per epoch).

Both encoders return ``(ids, lengths)``: ids is N×L int64 padded with the
pad id, lengths the true length of each row. Batches are cut from these
tensors and trimmed to their own longest row, so short texts cost little.
"""

from __future__ import annotations

from typing import Any

import torch

from lsctl.progress import Progress, ensure

# TextCNN's widest filter; shorter inputs are padded up to it (Kim 2014 pads too).
MIN_LENGTH = 5


def pad(seqs: list[list[int]], pad_id: int, max_length: int, min_length: int = 1):
    lengths = torch.tensor([min(len(s), max_length) for s in seqs], dtype=torch.long)
    width = max(int(lengths.max()) if len(seqs) else 1, min_length)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        n = min(len(s), max_length)
        if n:
            ids[i, :n] = torch.as_tensor(s[:n], dtype=torch.long)
    return ids, lengths


class WordEncoder:
    """lsctl/text tokenizer + vocabulary (TextCNN, LSTM)."""

    def __init__(self, vocab: Any, max_length: int) -> None:
        self.vocab, self.max_length = vocab, max_length
        self.pad_id = 0
        self.min_length = MIN_LENGTH

    def __call__(self, texts: list[str], progress: Progress | None = None):
        with ensure(progress).task("tokenizing", total=None):
            seqs = self.vocab.encode(self.vocab.tokenize(texts))
        return pad(seqs, self.pad_id, self.max_length, self.min_length)

    def from_tokens(self, tokens: list[list[str]]):
        """The same as calling it on the texts these tokens came from."""
        return pad(self.vocab.encode(tokens), self.pad_id, self.max_length, self.min_length)


class HFEncoder:
    """The transformers model's own tokenizer."""

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        self.tokenizer, self.max_length = tokenizer, max_length
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.min_length = 1

    def __call__(self, texts: list[str], progress: Progress | None = None):
        with ensure(progress).task("tokenizing", total=None):
            enc = self.tokenizer(
                list(texts), truncation=True, max_length=self.max_length, padding=False
            )
        return pad(enc["input_ids"], self.pad_id, self.max_length, self.min_length)


def batch(ids: torch.Tensor, lengths: torch.Tensor, idx: torch.Tensor):
    """Rows ``idx`` trimmed to their longest, and the attention mask."""
    lens = lengths[idx]
    width = max(int(lens.max()), 1)
    width = max(width, min(ids.shape[1], MIN_LENGTH))
    sub = ids[idx, :width]
    mask = torch.arange(width).unsqueeze(0) < lens.unsqueeze(1)
    return sub, mask
