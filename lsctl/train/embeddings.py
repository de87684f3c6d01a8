"""Pretrained static word vectors (word2vec binary or GloVe/word2vec text) for a vocabulary.

Only the vectors of vocabulary words are kept, so a multi-gigabyte file is
streamed once and never held in memory. Words without a vector get
U[-0.25, 0.25] as in Kim (2014); the pad row is zero.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from lsctl.errors import LsctlError

UNIFORM = 0.25


@dataclass
class Loaded:
    matrix: np.ndarray  # len(itos) x dim, float32
    found: int  # vocabulary words (pad/unk excluded) that got a vector
    dim: int
    fmt: str  # "word2vec-binary" or "text"


def _header(line: bytes) -> tuple[int, int] | None:
    parts = line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return None


def _is_text_record(line: bytes, dim: int | None) -> bool:
    try:
        parts = line.decode("utf-8").rstrip("\n").rstrip(" ").split(" ")
        values = [float(v) for v in parts[1:]]
    except (UnicodeDecodeError, ValueError):
        return False
    return len(values) >= 1 and (dim is None or len(values) == dim)


def sniff(path: str) -> str:
    """``"word2vec-binary"`` or ``"text"`` from the file's first records."""
    with open(path, "rb") as f:
        first = f.readline()
        head = _header(first)
        if head is None:
            return "text"  # GloVe: no header line
        second = f.readline()
    return "text" if _is_text_record(second, head[1]) else "word2vec-binary"


def _lookup(vocab: dict[str, int], word: str) -> list[int]:
    """Vocabulary rows a file word fills: itself, and its lowercase form for a cased file."""
    rows = []
    if word in vocab:
        rows.append(vocab[word])
    low = word.lower()
    if low != word and low in vocab:
        rows.append(vocab[low])
    return rows


def load_vectors(path: str, itos: list[str], dim: int, seed: int = 0, specials: int = 2) -> Loaded:
    """The embedding matrix for ``itos`` (row 0 = pad, zero; rows < ``specials`` random).

    An exact match wins over a lowercase one (the vocabulary of the ``words``
    tokenizer is lowercase; word2vec's GoogleNews vectors are cased).
    """
    if not os.path.isfile(path):
        raise LsctlError(f"--embeddings {path}: no such file")
    fmt = sniff(path)
    rng = np.random.default_rng(seed)
    matrix = rng.uniform(-UNIFORM, UNIFORM, size=(len(itos), dim)).astype(np.float32)
    matrix[0] = 0.0
    vocab = {w: i for i, w in enumerate(itos) if i >= specials}
    exact: set[int] = set()
    filled: set[int] = set()

    def put(word: str, vec: np.ndarray) -> None:
        for row in _lookup(vocab, word):
            exact_hit = itos[row] == word
            if row in exact or (row in filled and not exact_hit):
                continue  # an exact match is never overwritten by a lowercase one
            matrix[row] = vec
            filled.add(row)
            if exact_hit:
                exact.add(row)

    try:
        if fmt == "word2vec-binary":
            _read_binary(path, dim, put)
        else:
            _read_text(path, dim, put)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise LsctlError(f"--embeddings {path}: cannot read the vectors ({e})") from e
    return Loaded(matrix, len(filled), dim, fmt)


def _check_dim(path: str, found: int, dim: int) -> None:
    if found != dim:
        raise LsctlError(
            f"--embeddings {path}: the vectors have {found} dimensions but --embed-dim is "
            f"{dim}; pass --embed-dim {found}"
        )


def _read_binary(path: str, dim: int, put) -> None:
    with open(path, "rb") as f:
        n, d = _header(f.readline()) or (0, 0)
        _check_dim(path, d, dim)
        width = 4 * d
        for _ in range(n):
            word = bytearray()
            while True:
                ch = f.read(1)
                if not ch:
                    raise ValueError("the file ends inside a record")
                if ch == b" ":
                    break
                if ch != b"\n":  # the newline some writers put after each vector
                    word += ch
            raw = f.read(width)
            if len(raw) != width:
                raise ValueError("the file ends inside a vector")
            put(word.decode("utf-8", errors="replace"), np.frombuffer(raw, dtype="<f4"))


def _read_text(path: str, dim: int, put) -> None:
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline()
        head = _header(first.encode())
        lines = f if head else _chain(first, f)
        if head:
            _check_dim(path, head[1], dim)
        for lineno, line in enumerate(lines, start=2 if head else 1):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if len(parts) < 2:
                continue
            if len(parts) - 1 != dim:
                if lineno <= 2:
                    _check_dim(path, len(parts) - 1, dim)
                raise ValueError(f"line {lineno} has {len(parts) - 1} values, expected {dim}")
            put(parts[0], np.asarray(parts[1:], dtype=np.float32))


def _chain(first: str, rest):
    yield first
    yield from rest
