"""Column conventions: text/label/id, label order, probability vectors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lsctl.errors import LsctlError


def require_columns(
    table_or_schema: pa.Table | pa.Schema, names: list[str], where: str, hint: str = ""
) -> None:
    schema = table_or_schema.schema if isinstance(table_or_schema, pa.Table) else table_or_schema
    for name in names:
        if name not in schema.names:
            extra = f"; {hint}" if hint else ""
            raise LsctlError(
                f"{where}: no column {name!r} (columns: {', '.join(schema.names)}){extra}"
            )


def resolve_labels(table: pa.Table, meta: dict[str, Any] | None, where: str) -> list[str]:
    """The ordered label list: the artifact's own, else the sorted distinct labels.

    Raises when a row carries a label outside the stamped list.
    """
    require_columns(table, ["label"], where)
    col = table.column("label")
    if col.null_count:
        raise LsctlError(f"{where}: {col.null_count} rows have no label; drop or fill them first")
    present = [str(v) for v in pc.unique(col.cast(pa.string())).to_pylist()]
    if meta and meta.get("labels"):
        labels = [str(v) for v in meta["labels"]]
        unknown = sorted(set(present) - set(labels))
        if unknown:
            raise LsctlError(
                f"{where}: label {unknown[0]!r} is not in the artifact's label list {labels}"
            )
        return labels
    return sorted(present)


def label_indices(
    table: pa.Table, labels: list[str], where: str, column: str = "label"
) -> np.ndarray:
    """Map the label column to int64 indices into ``labels``."""
    col = table.column(column).cast(pa.string())
    idx = pc.index_in(col, value_set=pa.array(labels, pa.string()))
    if idx.null_count:
        bad = pc.filter(col, pc.is_null(idx))[0].as_py()
        raise LsctlError(f"{where}: label {bad!r} is not one of {labels}")
    return idx.to_numpy(zero_copy_only=False).astype(np.int64)


def ensure_id(table: pa.Table) -> pa.Table:
    """Keep an existing ``id`` column; otherwise add the row index as ``id``."""
    if "id" in table.column_names:
        return table
    return table.add_column(0, "id", pa.array(np.arange(table.num_rows, dtype=np.int64)))


def prob_array(probs: np.ndarray) -> pa.FixedSizeListArray:
    """N×K floats → ``fixed_size_list<float32>[K]``."""
    probs = np.ascontiguousarray(probs, dtype=np.float32)
    if probs.ndim != 2:
        raise ValueError("probability matrix must be 2-D")
    k = probs.shape[1]
    return pa.FixedSizeListArray.from_arrays(pa.array(probs.reshape(-1)), k)


def prob_matrix(column: pa.ChunkedArray | pa.Array, k: int, where: str, name: str) -> np.ndarray:
    """A probability-vector column (fixed-size or plain lists) → N×K float64 array."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.null_count:
        raise LsctlError(f"{where}: {column.null_count} rows have a null {name}")
    t = column.type
    if pa.types.is_fixed_size_list(t):
        if t.list_size != k:
            raise LsctlError(
                f"{where}: {name} has length {t.list_size}, expected {k} (one per label)"
            )
        flat = column.flatten()
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
        if len(lengths) and (lengths != k).any():
            row = int(np.argmax(lengths != k))
            raise LsctlError(
                f"{where}: row {row} has a {name} of length {lengths[row]}, expected {k} (one per label)"
            )
        flat = column.flatten()
    else:
        raise LsctlError(f"{where}: column {name!r} is {t}, expected a list of floats")
    values = flat.to_numpy(zero_copy_only=False).astype(np.float64)
    return values.reshape(-1, k) if k else values.reshape(len(column), 0)


def texts(table: pa.Table, where: str, drop_empty: bool = False) -> pa.Table:
    """Check the text column: nulls and blank strings are an error unless dropped.

    Returns the table (filtered under ``drop_empty``). The caller warns with
    ``table.num_rows`` before/after.
    """
    require_columns(table, ["text"], where)
    col = table.column("text")
    if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
        raise LsctlError(f"{where}: column 'text' is {col.type}, expected strings")
    blank = pc.or_kleene(pc.is_null(col), pc.equal(pc.utf8_trim_whitespace(col), ""))
    blank = pc.fill_null(blank, True)
    n_blank = pc.sum(blank).as_py() or 0
    if n_blank and not drop_empty:
        first = int(np.argmax(blank.to_numpy(zero_copy_only=False)))
        raise LsctlError(
            f"{where}: {n_blank} rows have null or empty text (first at row {first}); "
            "fix them or pass --drop-empty"
        )
    if n_blank:
        table = table.filter(pc.invert(blank))
    return table
