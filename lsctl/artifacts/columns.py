"""Column conventions: text/label/id, label order, probability vectors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lsctl.errors import LsctlError


def numpy_array(values: np.ndarray) -> pa.Array:
    """A 1-D numeric NumPy array as an Arrow array, zero-copy.

    Unlike ``pa.array`` this never asks whether pandas is installed, which
    imports pandas (0.2 s) the first time in a process.
    """
    values = np.ascontiguousarray(values)
    if values.ndim != 1 or values.dtype.kind not in "iuf":
        raise ValueError("numpy_array takes a 1-D integer or float array")
    typ = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(typ, len(values), [None, pa.py_buffer(values)])


_NUMPY_NAMES = {"halffloat": "float16", "float": "float32", "double": "float64"}


def as_numpy(array: pa.Array, null: Any = None) -> np.ndarray:
    """A numeric or boolean Arrow array as NumPy (numeric: a zero-copy view).

    ``Array.to_numpy`` imports pandas (0.2 s) the first time in a process;
    this reads the buffers instead. Nulls become ``null``, which must be
    given when the array has any.
    """
    n, off = len(array), array.offset
    validity, data = array.buffers()[:2]
    if pa.types.is_boolean(array.type):
        raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
        values = np.unpackbits(raw, count=off + n, bitorder="little")[off:].astype(bool)
    elif pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
        name = _NUMPY_NAMES.get(str(array.type), str(array.type))
        values = np.frombuffer(data, dtype=name, count=off + n)[off:] if n else np.zeros(0, name)
    else:
        raise TypeError(f"as_numpy takes a numeric or boolean array, not {array.type}")
    if array.null_count:
        if null is None:
            raise ValueError("the array has nulls; pass null= to fill them")
        valid = np.unpackbits(
            np.frombuffer(validity, dtype=np.uint8), count=off + n, bitorder="little"
        )
        values = np.where(valid[off:].astype(bool), values, null)
    return values


def string_array(values: list[str]) -> pa.Array:
    """A list of str as an Arrow ``string`` array, without ``pa.array`` (see numpy_array)."""
    data = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return pa.Array.from_buffers(
        pa.string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
    )


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
    idx = pc.index_in(col, value_set=string_array(labels))
    if idx.null_count:
        bad = pc.filter(col, pc.is_null(idx))[0].as_py()
        raise LsctlError(f"{where}: label {bad!r} is not one of {labels}")
    if isinstance(idx, pa.ChunkedArray):
        idx = idx.combine_chunks()
    return as_numpy(idx).astype(np.int64)


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
    return pa.FixedSizeListArray.from_arrays(numpy_array(probs.reshape(-1)), k)


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
