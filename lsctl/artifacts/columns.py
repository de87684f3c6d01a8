"""Column conventions: text/label/id, label order, probability vectors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lsctl.errors import LsctlError, rows_have


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


def unlabelled(where: str, n: int) -> LsctlError:
    """The error for ``n`` rows whose label is missing (null)."""
    return LsctlError(f"{where}: {rows_have(n)} no label; drop or fill them first")


def require_columns(
    table_or_schema: pa.Table | pa.Schema, names: list[str], where: str, hint: str = ""
) -> None:
    schema = table_or_schema.schema if isinstance(table_or_schema, pa.Table) else table_or_schema
    for name in names:
        if name not in schema.names:
            extra = f"; {hint}" if hint else ""
            kind = _written_by(schema)
            raise LsctlError(
                f"{where}: no column {name!r} (columns: {', '.join(schema.names)}){kind}{extra}"
            )


# Artifacts that are not rows of text and labels, and the command that writes each.
_NOT_DATA = {
    "comparison": "lsctl compare",
    "keywords": "lsctl keywords",
    "run": "lsctl train (a run's metrics)",
    "ranked": "lsctl retrieve",
}


def _written_by(schema: pa.Schema) -> str:
    """``"; it is a comparison artifact, from lsctl compare"`` for those kinds, else ``""``."""
    from lsctl.artifacts.meta import decode_meta

    try:
        kind = (decode_meta(schema.metadata, "") or {}).get("kind")
    except LsctlError:
        return ""  # unreadable metadata: the missing column is the error to report
    return f"; it is a {kind} artifact, from {_NOT_DATA[kind]}" if kind in _NOT_DATA else ""


def resolve_labels(
    table: pa.Table, meta: dict[str, Any] | None, where: str, given: list[str] | None = None
) -> list[str]:
    """The ordered label list: ``given`` (``--labels``), the artifact's own, else sorted names.

    Sorted names are safe for the ``label`` column, whose values are names; a
    per-label vector column needs :func:`vector_labels` instead. Raises when a
    row carries a label outside the list.
    """
    require_columns(table, ["label"], where)
    col = table.column("label")
    if col.null_count:
        raise unlabelled(where, col.null_count)
    present = [str(v) for v in pc.unique(col.cast(pa.string())).to_pylist()]
    if given is not None:
        _check_given(given, meta, where, "--labels")
        unknown = sorted(set(present) - set(given))
        if unknown:
            raise LsctlError(f"{where}: label {unknown[0]!r} is not in --labels {','.join(given)}")
        return list(given)
    if meta and meta.get("labels"):
        labels = [str(v) for v in meta["labels"]]
        unknown = sorted(set(present) - set(labels))
        if unknown:
            raise LsctlError(
                f"{where}: label {unknown[0]!r} is not in the artifact's label list {labels}"
            )
        return labels
    return sorted(present)


def parse_labels(value: str | None, option: str = "--labels") -> list[str] | None:
    """``"A,B,C"`` → ``["A", "B", "C"]``; None stays None. Duplicates and blanks are usage errors."""
    if value is None:
        return None
    from lsctl.errors import UsageError

    labels = [v.strip() for v in value.split(",")]
    if len(labels) < 2 or any(not v for v in labels):
        raise UsageError(
            f"{option} {value!r}: give the label names in order, e.g. {option} neg,pos"
        )
    dup = sorted({v for v in labels if labels.count(v) > 1})
    if dup:
        raise UsageError(f"{option} {value!r}: {dup[0]!r} appears more than once")
    return labels


def vector_labels(
    table: pa.Table,
    meta: dict[str, Any] | None,
    where: str,
    column: str,
    given: list[str] | None = None,
    prove_with: str | tuple[str, ...] = ("soft_argmax", "label"),
    option: str | None = "--labels",
) -> list[str]:
    """The label order of a per-label vector column (``soft_label``, ``probs``, ``logits``).

    The order is never guessed: a vector's positions carry no names, and the
    sorted-names fallback that :func:`resolve_labels` uses for the ``label``
    column would silently invert targets whenever the original order was not
    sorted (HF datasets list ``positive`` before ``negative``). pandas, polars
    and duckdb all drop Arrow schema and field metadata when they rewrite a
    file, so the order is taken from, in turn:

    1. ``given`` (the ``--labels`` option), checked against the metadata's order;
    2. the artifact's own ``labels`` metadata;
    3. the rows themselves: ``prove_with`` names string columns, tried in
       turn, that name the argmax of the vector (``pred`` in predictions;
       ``soft_argmax``, which ``lsctl softlabel`` writes, or else ``label`` in
       soft labels, where the gold label usually gets the largest share). The
       order is proved when every row with a unique maximum agrees on one
       position per label and every position is some label's.

    Anything else stops with one error that names ``option``.
    """
    require_columns(table, [column], where)
    width = _vector_width(table.column(column), where, column)
    tries = (prove_with,) if isinstance(prove_with, str) else prove_with
    if given is not None:
        _check_given(given, meta, where, option)
        labels = list(given)
        if not (meta and meta.get("labels")):
            # Without metadata the argmax columns lsctl writes still prove the
            # order; a given order that contradicts them would invert targets.
            for by in (b for b in tries if b in ("soft_argmax", "pred")):
                proved = _proved_order(table, where, column, width, by)
                if proved is not None and proved != labels:
                    raise LsctlError(
                        f"{where}: {option or 'the given labels'} {','.join(labels)} contradicts "
                        f"the order its {by} column proves ({','.join(proved)})"
                    )
    elif meta and meta.get("labels"):
        labels = [str(v) for v in meta["labels"]]
    else:
        labels = None
        for by in tries:
            labels = _proved_order(table, where, column, width, by)
            if labels is not None:
                break
        if labels is None:
            how = (
                f"pass {option} A,B,… in the order of its positions"
                if option
                else "write it with lsctl"
            )
            raise LsctlError(
                f"{where}: the label order of {column!r} is unknown (no lsctl metadata, e.g. "
                f"after a pandas round trip) and its rows do not prove one; {how}"
            )
    if width is not None and width != len(labels):
        raise LsctlError(
            f"{where}: {column} has {width} entries per row but the label order has "
            f"{len(labels)} ({','.join(labels)})"
        )
    if "label" in table.column_names:
        uniq = pc.unique(table.column("label").cast(pa.string())).to_pylist()
        present = {str(v) for v in uniq if v is not None}
        unknown = sorted(present - set(labels))
        if unknown:
            raise LsctlError(f"{where}: label {unknown[0]!r} is not in the label order {labels}")
    return labels


def _vector_width(column: pa.ChunkedArray, where: str, name: str) -> int | None:
    """Entries per row of a list column (None when the table has no rows to tell)."""
    t = column.type
    if pa.types.is_fixed_size_list(t):
        return t.list_size
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)):
        raise LsctlError(f"{where}: column {name!r} is {t}, expected a list of floats")
    lengths = pc.unique(pc.list_value_length(column)).to_pylist()
    lengths = [v for v in lengths if v is not None]
    if len(lengths) > 1:
        raise LsctlError(f"{where}: the rows of {name!r} have different lengths {sorted(lengths)}")
    return lengths[0] if lengths else None


def _proved_order(
    table: pa.Table, where: str, column: str, width: int | None, by: str
) -> list[str] | None:
    """The label order the rows imply (see :func:`vector_labels`), or None."""
    if not width or by not in table.column_names or not table.num_rows:
        return None
    names = table.column(by).cast(pa.string()).to_pylist()
    values = prob_matrix(table.column(column), width, where, column)
    top = values.argmax(axis=1)
    unique_max = (values == values.max(axis=1, keepdims=True)).sum(axis=1) == 1
    position: dict[str, int] = {}
    for name, pos, ok in zip(names, top.tolist(), unique_max.tolist(), strict=True):
        if name is None or not ok:
            continue
        if position.setdefault(name, pos) != pos:
            return None  # one label, two argmax positions: nothing is proved
    if len(position) != width or len(set(position.values())) != width:
        return None
    return [name for name, _ in sorted(position.items(), key=lambda kv: kv[1])]


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


def check_ids(table: pa.Table, where: str) -> None:
    """Refuse null or repeated ids: every row must be one instance that others can name."""
    ids = table.column("id")
    if ids.null_count:
        raise LsctlError(
            f"{where}: {rows_have(ids.null_count)} a null id; fill them, or rename the id "
            "column so lsctl numbers the rows"
        )
    n_distinct = pc.count_distinct(ids).as_py()
    if n_distinct != table.num_rows:
        raise LsctlError(
            f"{where}: the id column has {table.num_rows - n_distinct} duplicate values; ids "
            "must be unique (rename the column so lsctl numbers the rows)"
        )


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
        raise LsctlError(f"{where}: {rows_have(column.null_count)} a null {name}")
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


def texts(table: pa.Table, where: str, drop_empty: bool | None = None) -> pa.Table:
    """Check the text column: nulls and blank strings are an error unless dropped.

    ``drop_empty``: the command's ``--drop-empty`` (``None`` for a command
    without that option, whose error then points to ``lsctl data import``).
    Returns the table (filtered under ``drop_empty``). The caller warns with
    ``table.num_rows`` before/after.
    """
    require_columns(table, ["text"], where)
    blank = blank_texts(table.column("text"), where)
    n_blank = int(blank.sum())
    if n_blank and not drop_empty:
        first = int(np.argmax(blank))
        raise blank_text_error(
            where, f"{rows_have(n_blank)} null or empty text", first, drop_empty is not None
        )
    if n_blank:
        table = table.filter(pa.array(~blank))
    return table


def blank_text_error(where: str, what: str, first: int, has_option: bool) -> LsctlError:
    """The one error for blank texts; it names the fix this command offers."""
    fix = (
        "fix them or pass --drop-empty"
        if has_option
        else "drop those rows with `lsctl data import FILE -o OUT.parquet --drop-empty`"
    )
    return LsctlError(f"{where}: {what} (first at row {first}); {fix}")


def blank_texts(col: pa.Array | pa.ChunkedArray, where: str) -> np.ndarray:
    """(N,) bool: which texts are null, empty or whitespace only. The one rule for every command.

    No Python scalars in these kernels: converting one makes pyarrow import
    pandas (0.2 s of a short run).
    """
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise LsctlError(f"{where}: column 'text' is {col.type}, expected strings")
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    parts = [_blank(c) for c in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _blank(texts: pa.Array) -> np.ndarray:
    # Blank = nothing left after trimming Unicode whitespace. Trimming copies every
    # text (0.03–0.09 s on IMDb), so only the texts that could be blank are trimmed:
    # null, empty, or starting with whitespace. Almost every text starts with a word.
    first = pc.utf8_slice_codeunits(texts, 0, 1)
    maybe = as_numpy(pc.utf8_is_space(first), null=True) | (
        as_numpy(pc.binary_length(first), null=0) == 0
    )
    out = np.zeros(len(texts), dtype=bool)
    rows = np.flatnonzero(maybe)
    if len(rows):
        few = texts.take(numpy_array(rows))
        out[rows] = as_numpy(pc.utf8_length(pc.utf8_trim_whitespace(few)), null=0) == 0
    return out


def check_distributions(
    values: np.ndarray,
    where: str,
    name: str,
    ids: list[Any] | None = None,
    negative_ok: bool = False,
    tol: float = 1e-4,
) -> None:
    """Refuse rows of ``values`` that are not distributions over the labels.

    Every row must be finite and sum to 1 (within ``tol``); entries must be
    non-negative unless ``negative_ok`` (NLS targets sum to 1 with negative
    entries). A row summing to 2 or 3 trains or scores on a different scale
    without any other sign, so it is an error, not a warning.
    """
    if values.size == 0:
        return

    def at(i: int) -> str:
        return f"id {ids[i]!r}" if ids is not None else f"row {i}"

    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        raise LsctlError(f"{where}: {at(int(np.argmax(bad)))} has NaN or infinite {name}")
    if not negative_ok:
        neg = (values < -tol).any(axis=1)
        if neg.any():
            i = int(np.argmax(neg))
            raise LsctlError(
                f"{where}: {at(i)} has a negative {name} ({values[i].min():.4g}); "
                f"{name} must be probabilities in [0, 1]"
            )
    sums = values.sum(axis=1)
    off = np.abs(sums - 1.0) > tol
    if off.any():
        i = int(np.argmax(off))
        raise LsctlError(
            f"{where}: {rows_have(int(off.sum()))} a {name} that does not sum to 1 "
            f"({at(i)} sums to {sums[i]:.6g}); each row must be a distribution over the labels"
        )


def _check_given(given: Any, meta: dict | None, where: str, option: str) -> None:
    """A label order given on the command line must not contradict the file's stamp."""
    stamped = [str(v) for v in meta["labels"]] if meta and meta.get("labels") else None
    if stamped is not None and stamped != list(given):
        raise LsctlError(
            f"{where}: {option} {','.join(given)} contradicts the file's own label order "
            f"{','.join(stamped)}; drop {option}"
        )
