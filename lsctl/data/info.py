"""What is in a dataset: classes, text lengths, empty and duplicate texts, realized noise."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lsctl.artifacts import label_indices
from lsctl.text.tokenize import WORD_RE2

QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


def dataset_info(table: pa.Table, labels: list[str], where: str) -> dict[str, Any]:
    """Summary of a dataset table with ``text`` and ``label`` (and maybe ``clean_label``).

    Token counts use the default ``words`` tokenizer (``\\w+`` runs, as
    :mod:`lsctl.text.tokenize` defines them), so lengths match what keyword
    statistics and the TextCNN/LSTM vocabularies see.
    """
    n = table.num_rows
    y = label_indices(table, labels, where)
    counts = np.bincount(y, minlength=len(labels))
    out: dict[str, Any] = {
        "rows": n,
        "labels": list(labels),
        "classes": [
            {"label": lab, "count": int(c), "share": float(c / n) if n else 0.0}
            for lab, c in zip(labels, counts, strict=True)
        ],
        "missing_classes": [lab for lab, c in zip(labels, counts, strict=True) if c == 0],
    }
    out.update(_text_stats(table.column("text")) if "text" in table.column_names else {})
    if "text" in table.column_names:
        out["conflicting_duplicates"] = _conflicts(table)
    if "clean_label" in table.column_names:
        out["noise"] = noise_info(y, label_indices(table, labels, where, "clean_label"), labels)
    return out


def _text_stats(text: pa.ChunkedArray) -> dict[str, Any]:
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        text = text.cast(pa.string())
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), True)
    present = pc.drop_null(text)
    chars = pc.utf8_length(present).to_numpy(zero_copy_only=False)
    tokens = _token_counts(present)
    n_present = len(present)
    return {
        "empty_texts": int(pc.sum(blank).as_py() or 0),
        "null_texts": int(text.null_count),
        "duplicate_texts": int(n_present - (pc.count_distinct(present).as_py() or 0)),
        "length_chars": _quantiles(chars),
        "length_tokens": _quantiles(tokens),
    }


def _token_counts(text: pa.ChunkedArray) -> np.ndarray:
    """Number of ``\\w+`` runs per text; chunks run in threads (Arrow releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    parts = max(1, min(os.cpu_count() or 1, len(text) // 2048))
    step = max(1, -(-len(text) // parts))
    chunks = [text.slice(i, step) for i in range(0, len(text), step)] or [text]
    with ThreadPoolExecutor(parts) as pool:
        counts = pool.map(lambda c: pc.count_substring_regex(c, WORD_RE2), chunks)
        return np.concatenate([c.to_numpy(zero_copy_only=False) for c in counts])


def _quantiles(values: np.ndarray) -> dict[str, float] | None:
    if values.size == 0:
        return None
    qs = np.quantile(values.astype(np.float64), QUANTILES)
    out = {_qname(q): float(v) for q, v in zip(QUANTILES, qs, strict=True)}
    out["mean"] = float(values.mean())
    return out


def _qname(q: float) -> str:
    return {0.0: "min", 1.0: "max"}.get(q, f"p{round(q * 100)}")


def _conflicts(table: pa.Table) -> int:
    """Distinct texts that occur with more than one label (noise the data already has)."""
    sub = table.select(["text", "label"]).filter(pc.is_valid(table.column("text")))
    if sub.num_rows == 0:
        return 0
    grouped = sub.group_by("text").aggregate([("label", "count_distinct")])
    return int(pc.sum(pc.greater(grouped.column("label_count_distinct"), 1)).as_py() or 0)


def noise_info(noisy: np.ndarray, clean: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """Realized noise: overall rate and, per clean class, how many labels were flipped where."""
    k = len(labels)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (clean, noisy), 1)
    n_clean = confusion.sum(axis=1)
    flipped = n_clean - np.diag(confusion)
    return {
        "rate": float((noisy != clean).mean()) if noisy.size else 0.0,
        "flipped": int(flipped.sum()),
        "per_class": [
            {
                "label": labels[i],
                "clean_count": int(n_clean[i]),
                "flipped": int(flipped[i]),
                "rate": float(flipped[i] / n_clean[i]) if n_clean[i] else 0.0,
                "to": {
                    labels[j]: int(confusion[i, j]) for j in range(k) if j != i and confusion[i, j]
                },
            }
            for i in range(k)
        ],
    }
