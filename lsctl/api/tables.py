"""Soft labels for pandas, polars and Arrow tables: ``lsctl.soft_labels``.

A table goes in, the same kind of table comes out, with the label order of
its ``soft_label`` vectors attached:

- **pandas**: ``result.attrs["labels"]`` (and the whole lsctl metadata in
  ``result.attrs["lsctl"]``); ``soft_argmax`` is a categorical whose
  categories are the label order;
- **pyarrow**: the ``lsctl`` schema metadata, as in an artifact file, so
  ``pq.write_table(result, path)`` gives a file every lsctl command reads;
- **polars** (which keeps no table metadata): ``soft_argmax`` is a
  ``pl.Enum`` whose categories are the label order.

:func:`label_order` reads the order back from any of the three.
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

import pyarrow as pa

from lsctl.api import named_tables, one_command, warn_user
from lsctl.validation import ParameterError, literal


def table_kind(data: Any, argument: str = "data") -> str:
    """``pandas``, ``polars`` or ``arrow``; a clear error, naming ``argument``, for anything else."""
    if isinstance(data, pa.Table):
        return "arrow"
    top = type(data).__module__.split(".")[0]
    if top == "pandas" and hasattr(data, "columns"):
        return "pandas"
    if top == "polars" and hasattr(data, "to_arrow"):
        return "polars"
    raise ParameterError(
        literal(
            f"{argument} must be a pandas DataFrame, a polars DataFrame or a pyarrow Table, "
            f"not {type(data).__name__}"
        )
    )


def to_arrow(data: Any, argument: str = "data") -> pa.Table:
    """Any supported table as a pyarrow Table (pandas index dropped)."""
    kind = table_kind(data, argument)
    if kind == "arrow":
        return data
    if kind == "pandas":
        return pa.Table.from_pandas(data, preserve_index=False)
    return data.to_arrow()


def _lsctl_meta(table: pa.Table) -> dict[str, Any] | None:
    from lsctl.artifacts.meta import META_KEY

    raw = (table.schema.metadata or {}).get(META_KEY)
    return json.loads(raw) if raw else None


def label_order(result: Any) -> list[str]:
    """The label order of a ``soft_labels`` result's vectors (pandas, polars or Arrow).

    Raises when the order is not attached (e.g. a pandas frame rebuilt
    without its ``attrs``).

    Parameters
    ----------
    result : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        What :func:`soft_labels` returned.

    Returns
    -------
    list of str, length K
        The label of each entry of a ``soft_label`` vector.

    Examples
    --------
    Integer labels keep their natural order (2 before 10), and each vector
    follows it:

    >>> import pandas as pd, lsctl
    >>> out = lsctl.soft_labels(pd.DataFrame({"label": [10, 2]}), "uniform", epsilon=0.2)
    >>> lsctl.label_order(out)
    ['2', '10']
    >>> out["soft_label"][0].astype(float).round(2).tolist()  # row 0 is 10: 1 - 0.2 + 0.1
    [0.1, 0.9]
    """
    kind = table_kind(result, "result")
    if kind == "pandas" and result.attrs.get("labels"):
        return list(result.attrs["labels"])
    if kind == "arrow":
        meta = _lsctl_meta(result)
        if meta and meta.get("labels"):
            return list(meta["labels"])
    if kind == "polars" and "soft_argmax" in result.columns:
        dtype = result.schema["soft_argmax"]
        if hasattr(dtype, "categories"):
            return list(dtype.categories)
    raise ParameterError("{result:n} carries no label order", result=None)


@one_command
def soft_labels(
    data: Any,
    method: str = "kwls",
    *,
    text: str = "text",
    label: str = "label",
    label_order: list[str] | None = None,
    **params: Any,
) -> Any:
    """Soft-label targets for every row of a table, as ``lsctl softlabel`` makes them.

    Parameters
    ----------
    data : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        N rows with a text column (methods that read texts) and a label column.
    method : str
        A registered method: ``kwls``, ``tfidf``, ``uniform``, ``nls``, ``distill``.
    text, label : str
        The names of the text and label columns.
    label_order : list, optional
        The order of the vector entries; default: the labels sorted (numbers
        in numeric order, 2 before 10).
    **params
        The method's parameters, named as the ``softlabel`` options with
        underscores: ``k1``, ``b``, ``k2``, ``tokenizer``, ``lowercase``,
        ``stopwords``, ``min_count``, ``keywords``, ``cross_fit``, ``seed``
        (kwls, tfidf); ``epsilon``, ``convention`` (uniform); ``rate`` (nls);
        ``teacher``, ``temperature``, ``mix``, ``teacher_labels`` (distill).
        ``teacher`` is a predictions file, an :func:`lsctl.evaluate` result or
        a table with ``id, label, probs``, or a list of them (out-of-fold
        teachers).

    Returns
    -------
    The same kind of table as ``data``, its own columns (and pandas index and
    dtypes) untouched, plus ``soft_label`` (a length-K float32 vector per row,
    summing to 1) and ``soft_argmax`` (the label of each row's largest entry).
    The label order is attached (module docstring); :func:`label_order` reads it.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"text": ["a b", "b c"], "label": [2, 10]})
    >>> out = soft_labels(df, "uniform", epsilon=0.2)
    >>> label_order(out), out["soft_label"][0].astype(float).round(2).tolist()
    (['2', '10'], [0.9, 0.1])

    Raises
    ------
    lsctl.errors.LsctlError
        Bad data; :class:`lsctl.validation.ParameterError` (a subclass) for a
        bad parameter, named as here (``k1=0 must be > 0``).
    """
    from lsctl.artifacts.meta import META_KEY, decode_meta, encode_meta
    from lsctl.smoothing import registry
    from lsctl.smoothing.run import softlabel

    table_kind(data)
    cls = registry.get(method)
    allowed = set(cls.param_names) | set(cls.extra_params)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ParameterError(
            f"{{{unknown[0]}:n}} is not a parameter of method {method!r}; it takes "
            f"{', '.join(sorted(allowed)) or 'none'}",
            **{unknown[0]: params[unknown[0]]},
        )
    names = column_names(data)
    if cls.needs_text and text == label:
        raise ParameterError("{text} and {label} name the same column", text=text, label=label)
    # A column named here must exist (it used to fall back to the default one
    # silently), and the error speaks Python, not the CLI's --text-col.
    for arg, col, needed in (("text", text, cls.needs_text), ("label", label, True)):
        if col not in names and (needed or col != arg):
            raise ParameterError(
                f"{{{arg}}}: the table has no such column (columns: {', '.join(names)})",
                **{arg: col},
            )
    # Only the columns the method reads go through Arrow: the others are handed
    # back untouched (dtypes, index), and cannot fail a conversion they need not.
    wanted = [c for c in (text if cls.needs_text else None, label, "id") if c in names]
    table = _select(data, list(dict.fromkeys(wanted)))
    if cls.needs_text and not _is_text(table.schema.field(text).type):
        # Said here, where the column still has the caller's name (the core sees "text").
        raise ParameterError(
            f"{{text}}: the column holds {table.schema.field(text).type}, not strings "
            "(one text per row)",
            text=text,
        )
    table, _ = _rename(table, {text: "text", label: "label"})
    if label_order is None and "label" in table.column_names:
        label_order = natural_order(table.column("label"))
    elif label_order is not None:
        label_order = _label_names(label_order)
        _check_covers(label_order, table.column("label"))
    with tempfile.TemporaryDirectory(prefix="lsctl-api-") as tmp:
        if params.get("teacher") is not None:
            params = {**params, "teacher": _teacher_paths(params["teacher"], tmp)}
        result = softlabel(table, None, method, params, labels=label_order, collect=True)
        for w in result.warnings:
            warn_user(w)
        meta = result.table.schema.metadata
        record = decode_meta(meta, "soft labels")
        if record is not None:
            # The teachers' temporary files are gone once this returns: the
            # record names the arguments they came as ("teacher[0] (a table)").
            meta = {**meta, META_KEY: encode_meta(named_tables(record))}
    new = result.table.select(["soft_label", "soft_argmax"])
    return _with_columns(data, new, result.labels, meta)


def _teacher_paths(teacher: Any, folder: str) -> str:
    """distill's ``teacher`` as the comma-separated files the method reads.

    Paths are taken as they are; evaluate results and tables are written to
    ``folder`` first.
    """
    from lsctl.api.runs import prediction_path

    many = isinstance(teacher, (list, tuple))
    items = list(teacher) if many else [teacher]
    return ",".join(
        prediction_path(t, folder, f"teacher{i}", f"teacher[{i}]" if many else "teacher")
        for i, t in enumerate(items)
    )


def column_names(data: Any) -> list[str]:
    """The column names of a pandas, polars or Arrow table."""
    if isinstance(data, pa.Table):
        return list(data.column_names)
    return [str(c) for c in data.columns]


def _select(data: Any, columns: list[str]) -> pa.Table:
    """Just ``columns`` of ``data`` as a pyarrow Table."""
    if isinstance(data, pa.Table):
        return data.select(columns)
    if table_kind(data) == "pandas":
        try:
            table = pa.Table.from_pandas(data[columns], preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            # e.g. labels [1, "a"]: pyarrow says which value, then which column.
            why = "; ".join(str(a) for a in reversed(e.args)) or str(e)
            raise ParameterError(literal(f"data: {why}; give each column one type")) from None
        return index_ids(table, data)
    return data.select(columns).to_arrow()


def index_ids(table: pa.Table, frame: Any) -> pa.Table:
    """``table`` (from the pandas ``frame``) with an ``id`` column from the frame's index.

    The index names the rows (a filtered or shuffled frame keeps its labels), so
    predictions and teachers of the same rows pair up whatever their order. Only
    when there is no ``id`` column and the index is unique integers.
    """
    if (
        table_kind(frame) != "pandas"
        or "id" in table.column_names
        or not frame.index.is_unique
        or frame.index.dtype.kind not in "iu"
    ):
        return table
    return table.add_column(0, "id", pa.array(frame.index.to_numpy(), pa.int64()))


def natural_order(labels: pa.Array | pa.ChunkedArray) -> list[str] | None:
    """Numbers and booleans in their own order (2 before 10), spelled as Arrow casts
    them to strings; None for text labels, which sort as text anyway.

    >>> natural_order(pa.array([10, 2, 1, 2]))
    ['1', '2', '10']
    """
    import pyarrow.compute as pc

    kind = labels.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        return None
    values = pc.unique(labels.drop_null() if labels.null_count else labels)
    return values.take(pc.sort_indices(values)).cast(pa.string()).to_pylist()


def _is_text(kind: pa.DataType) -> bool:
    """Strings of any Arrow layout (polars hands over large strings), or all nulls (the core
    reports those as blank texts)."""
    view = getattr(pa.types, "is_string_view", lambda t: False)
    return (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or view(kind)
        or (pa.types.is_null(kind))
    )


def _check_covers(order: list[str], labels: pa.ChunkedArray) -> None:
    """Refuse a ``label_order`` that lacks a label of the column (the vectors could not hold it)."""
    import pyarrow.compute as pc

    seen = pc.unique(labels.cast(pa.string())).drop_null().to_pylist()
    missing = [v for v in seen if v not in set(order)]
    if missing:
        raise ParameterError(
            f"{{label_order}} lacks the label {missing[0]!r}, which the label column holds",
            label_order=order,
        )


def _label_names(order: Any) -> list[str]:
    """``label_order`` as the label names the core reads (Arrow's spelling of numbers)."""
    if isinstance(order, str) or not hasattr(order, "__iter__"):
        raise ParameterError(
            "{label_order:n} is a list of labels, not " + type(order).__name__, label_order=None
        )
    values = list(order)
    if not values:
        raise ParameterError("{label_order:n} is empty", label_order=None)
    strings = all(isinstance(v, str) for v in values)
    names = values if strings else [str(v) for v in pa.array(values).cast(pa.string()).to_pylist()]
    if len(set(names)) != len(names):
        raise ParameterError("{label_order} repeats a label", label_order=values)
    return names


def _with_columns(data: Any, new: pa.Table, labels: list[str], meta: Any) -> Any:
    """``data`` with the columns of ``new`` appended (replacing any of the same name)."""
    from lsctl.artifacts.meta import META_KEY

    kind = table_kind(data)
    stamp = {META_KEY: meta[META_KEY]} if meta and META_KEY in meta else {}
    if kind == "arrow":
        out = data.drop_columns([c for c in new.column_names if c in data.column_names])
        for name in new.column_names:
            out = out.append_column(name, new.column(name))
        return out.replace_schema_metadata({**(data.schema.metadata or {}), **stamp})
    if kind == "pandas":
        import pandas as pd

        out = data.drop(columns=[c for c in new.column_names if c in data.columns])
        added = new.to_pandas()
        for name in new.column_names:
            out[name] = added[name].to_numpy()
        out["soft_argmax"] = pd.Categorical(out["soft_argmax"], categories=labels)
        out.attrs["labels"] = list(labels)
        out.attrs["lsctl"] = json.loads(stamp[META_KEY]) if stamp else None
        return out
    import polars as pl

    added = pl.from_arrow(new)
    out = data.drop([c for c in new.column_names if c in data.columns]).with_columns(
        added.get_column(name) for name in new.column_names
    )
    return out.with_columns(pl.col("soft_argmax").cast(pl.Enum(labels)))


def _rename(table: pa.Table, mapping: dict[str, str]) -> tuple[pa.Table, dict[str, str]]:
    """Rename columns ``old → new`` where ``old`` exists; returns the renames done."""
    done = {}
    names = list(table.column_names)
    for old, new in mapping.items():
        if old == new or old not in names:
            continue
        if new in names:
            raise ParameterError(
                f"{{{new}}}: the table also has a column {new!r}; rename or drop one of them",
                **{new: old},
            )
        names[names.index(old)] = new
        done[old] = new
    return table.rename_columns(names), done
