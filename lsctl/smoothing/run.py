"""The ``softlabel`` and ``keywords`` pipelines, for the CLI and for library use.

Both stream DATA in record batches: memory is the statistics (O(V·K)) plus a
batch, and output batches are written as they are made.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from lsctl.errors import LsctlError, rows_have
from lsctl.progress import Progress, ensure
from lsctl.smoothing.base import Context

# Rows per record batch. One batch's tokens, keys and sort are the largest
# transient of a run (~45 MB for 4,096 IMDb-length reviews, ~185 MB for 16,384),
# so the batch size sets peak memory; per-batch overhead (a vocabulary lookup,
# one row group written) is still small at this size: IMDb train takes the same
# time as with 16,384-row batches and peaks ~120 MB lower (docs/softlabel.md).
BATCH_ROWS = 4096


# Mean entropy above this share of its maximum (ln K) marks targets as nearly
# uniform. Measured (docs/RESULTS.md §2, KWLS on TRAIN): IMDb 0.99 and
# 20 Newsgroups 0.81, whose targets alone (train --loss soft) lost 27 and 36
# points against CE; AG News 0.53 and TREC 0.38, where they did not.
FLAT_SHARE = 0.75


def flat_warning(mean_entropy: float | None, k: int, method: str = "") -> str | None:
    """A warning when soft labels are nearly uniform, else None.

    ``method`` names the soft labels in the message, so a script that makes several
    sets can tell which one is flat.

    >>> flat_warning(0.68, 2, "kwls")[:39], flat_warning(0.37, 2)
    ('the kwls soft labels are nearly uniform', None)
    """
    if mean_entropy is None or k < 2:
        return None
    share = mean_entropy / math.log(k)
    if share <= FLAT_SHARE:
        return None
    return (
        f"the {method + ' ' if method else ''}soft labels are nearly uniform (mean entropy {share:.0%} of its maximum, ln {k}): "
        "as the only targets (train --loss soft) they carry little signal; --loss aux (the "
        "authors' eq. 9) keeps the one-hot term"
    )


@dataclass
class Summary:
    """Streaming summary of soft labels against the gold labels.

    ``argmax_agreement``: the share of rows whose gold label has the largest
    entry, alone (a tie at the top is no agreement).
    """

    n: int = 0
    n_gold: int = 0
    gold_prob: float = 0.0
    agree: int = 0
    entropy: float = 0.0
    negative: bool = False

    def add(self, d: np.ndarray, y: np.ndarray | None) -> None:
        self.n += len(d)
        if (d < 0).any():
            self.negative = True
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                self.entropy += float(-np.where(d > 0, d * np.log(d), 0.0).sum())
        if y is not None:
            self.n_gold += len(y)
            self.gold_prob += float(d[np.arange(len(y)), y].sum())
            # The gold label agrees only as the one largest entry: argmax would
            # credit a tie (a uniform row) to whichever label comes first.
            top = d.max(axis=1)
            alone = (d == top[:, None]).sum(axis=1) == 1
            self.agree += int((alone & (d[np.arange(len(y)), y] == top)).sum())

    def result(self) -> dict[str, Any]:
        gold = self.n_gold > 0
        return {
            "rows": self.n,
            "mean_gold_prob": self.gold_prob / self.n_gold if gold else None,
            "argmax_agreement": self.agree / self.n_gold if gold else None,
            # Entropy (nats) is undefined for NLS vectors with negative entries.
            "mean_entropy": None if self.negative or not self.n else self.entropy / self.n,
        }


@dataclass
class SoftlabelResult:
    output: str | None
    method: str
    labels: list[str]
    summary: dict[str, Any]
    warnings: list[str]
    info: dict[str, Any]
    examples: list[dict[str, Any]] = field(default_factory=list)
    # DATA's rows plus soft_label and soft_argmax, with the metadata an output
    # file would carry; only when asked for (``collect=True``).
    table: pa.Table | None = None


def _batch_source(reader: Any) -> tuple[Any, int | None]:
    """A re-iterable batch source: Parquet and Arrow files re-read; a stream is held."""
    if reader.format in ("arrow-stream", "table"):
        table = reader.read()
        return (lambda: iter(table.to_batches(max_chunksize=BATCH_ROWS))), table.num_rows
    return (lambda: reader.iter_batches(batch_size=BATCH_ROWS)), reader.num_rows


def _nonblank_texts(source: Any, where: str) -> Any:
    """Wrap a batch source so a null or blank text is an error, as in import/train/eval.

    One rule across commands: word statistics from an empty text are not
    "no evidence" but a data error (a lost column value, a bad export), so
    keywords and softlabel refuse it like every other command that reads
    texts, checked batch by batch as the rows stream past.
    """
    from lsctl.artifacts.columns import blank_text_error, blank_texts

    where = "stdin" if where == "-" else where

    def checked() -> Any:
        offset = 0
        for batch in source():
            blank = blank_texts(batch.column(batch.schema.get_field_index("text")), where)
            if blank.any():
                first = offset + int(np.argmax(blank))
                raise blank_text_error(where, "null or empty text", first, has_option=False)
            offset += batch.num_rows
            yield batch

    return checked


def _data_labels(
    reader: Any, source: Any, where: str, given: list[str] | None = None
) -> list[str] | None:
    """DATA's label order: ``given``, else its stamped list, else its sorted distinct labels."""
    if "label" not in reader.schema.names:
        return None
    import pyarrow.compute as pc

    from lsctl.artifacts import resolve_labels
    from lsctl.artifacts.columns import string_array, unlabelled

    uniq: set[str] = set()
    nulls = 0
    # A Parquet file reads the label column alone: decoding the texts twice
    # cost as much as a tenth of a run.
    if reader.format == "parquet":
        batches = reader.iter_batches(columns=["label"], batch_size=BATCH_ROWS)
    else:
        batches = source()
    for batch in batches:
        col = batch.column(batch.schema.get_field_index("label"))
        nulls += col.null_count
        uniq.update(str(v) for v in pc.unique(col.cast(pa.string())).to_pylist() if v is not None)
    if nulls:
        raise unlabelled(where, nulls)
    table = pa.table({"label": string_array(sorted(uniq))})
    return resolve_labels(table, reader.meta, where, given)


def softlabel(
    data: str | pa.Table,
    output: str | None,
    method_name: str,
    params: dict[str, Any],
    progress: Progress | None = None,
    show: int = 0,
    labels: list[str] | None = None,
    collect: bool = False,
) -> SoftlabelResult:
    """Write DATA's rows plus ``soft_label`` to ``output``; returns the run summary.

    ``data`` is an artifact path or an in-memory table. With ``output=None``
    nothing is written (inspection: summary and examples); ``collect=True``
    also returns the rows with their soft labels (``result.table``).
    ``labels`` fixes the label order of the vectors (else DATA's own).
    """
    from lsctl.artifacts import check_output, make_meta, open_artifact, prob_array, write_batches
    from lsctl.artifacts.columns import string_array
    from lsctl.artifacts.io import table_reader
    from lsctl.smoothing import registry

    method = registry.get(method_name)()
    params = {**params, "method": method_name}
    method.validate(params)
    in_memory = not isinstance(data, str)
    reader = table_reader(data) if in_memory else open_artifact(data)
    data = reader.path
    if method.needs_text and "text" not in reader.schema.names:
        raise LsctlError(
            f"{data}: no column 'text'; --method {method_name} computes word statistics from "
            f"it (columns: {', '.join(reader.schema.names)}); import the data with "
            "`lsctl data import … --text-col COLUMN`"
        )
    if output is not None:
        check_output(output, [data])
    source, num_rows = _batch_source(reader)
    if num_rows == 0:
        raise LsctlError(f"{data}: no rows; nothing to smooth")
    if method.needs_text:
        source = _nonblank_texts(source, data)
    ctx = Context(
        labels=_data_labels(reader, source, data, labels),
        params=params,
        batch_source=source,
        num_rows=num_rows,
        where=data,
        meta=reader.meta,
        progress=ensure(progress),
    )
    method.prepare(ctx)
    if not ctx.labels:
        raise LsctlError(f"{data}: no column 'label'; --method {method_name} needs hard labels")
    labels = list(ctx.labels)
    k = len(labels)
    summary = Summary()
    examples: list[dict[str, Any]] = []
    has_gold = "label" in reader.schema.names

    def batches() -> Iterator[pa.RecordBatch]:
        with ctx.progress.task("soft labels", total=ctx.num_rows) as task:
            for start, batch in ctx.batches():
                d = np.asarray(method.targets(ctx, batch, start), dtype=np.float64)
                # A method's bug, not the user's: say which contract it broke.
                if d.shape != (batch.num_rows, k):
                    raise LsctlError(
                        f"--method {method_name} returned targets of shape {d.shape}; "
                        f"expected ({batch.num_rows}, {k})"
                    )
                if not np.isfinite(d).all():
                    raise LsctlError(
                        f"--method {method_name}: "
                        f"{rows_have(int((~np.isfinite(d)).any(axis=1).sum()))} non-finite "
                        f"targets (among rows {start}-{start + batch.num_rows - 1})"
                    )
                y = ctx.label_indices(batch) if has_gold else None
                summary.add(d, y)
                if len(examples) < show:
                    _collect(examples, batch, d, labels, show)
                own = ("soft_label", "soft_argmax")
                keep = [i for i, n in enumerate(batch.schema.names) if n not in own]
                cols = [batch.column(i) for i in keep]
                names = [batch.schema.names[i] for i in keep]
                # soft_argmax names each row's largest entry: pandas, polars and duckdb
                # keep it when they drop the metadata, so the vector's label order can
                # still be proved from the rows (artifacts.columns.vector_labels).
                top = string_array([labels[i] for i in d.argmax(axis=1).tolist()])
                yield pa.RecordBatch.from_arrays(
                    [*cols, prob_array(d), top], names=[*names, "soft_label", "soft_argmax"]
                )
                task.advance(batch.num_rows)
        method.finish(ctx)
        if method.warn_if_flat and (
            flat := flat_warning(summary.result()["mean_entropy"], k, method.name)
        ):
            ctx.warn(flat)

    recorded = {name: params.get(name) for name in method.param_names if name in params}

    def meta() -> dict[str, Any]:
        # Built after the rows: a stream's hash is known only once it is read.
        own = [] if in_memory else [reader.input_record()]
        return make_meta(
            "softlabels",
            labels,
            params={"method": method_name, **recorded, **ctx.info},
            inputs=[*own, *ctx.inputs],
        )

    table = None
    if output is None:
        kept = []
        for batch in batches():
            if collect:
                kept.append(batch)
        if collect:
            from lsctl.artifacts.meta import META_KEY, encode_meta

            table = pa.Table.from_batches(kept).replace_schema_metadata(
                {META_KEY: encode_meta(meta())}
            )
    else:
        write_batches(batches(), output, meta(), inputs=[data])
    return SoftlabelResult(
        output,
        method_name,
        labels,
        summary.result(),
        list(ctx.warnings),
        dict(ctx.info),
        examples,
        table,
    )


def _collect(
    examples: list[dict[str, Any]], batch: pa.RecordBatch, d: np.ndarray, labels: list[str], n: int
) -> None:
    """Add rows of ``batch`` to the ``n`` shown examples, at most ceil(n/K) per gold label.

    A split sorted by label would otherwise show one class only; rows without a
    gold label are taken in order.
    """
    names = batch.schema.names
    golds = batch.column(names.index("label")).to_pylist() if "label" in names else None
    quota = -(-n // max(len(labels), 1))
    shown: dict[Any, int] = {}
    for e in examples:
        shown[e["label"]] = shown.get(e["label"], 0) + 1
    rows = []
    for i in range(batch.num_rows):
        if len(examples) + len(rows) >= n:
            break
        gold = golds[i] if golds is not None else None
        if gold is not None and shown.get(gold, 0) >= quota:
            continue
        shown[gold] = shown.get(gold, 0) + 1
        rows.append(i)
    # Only the chosen rows' texts are converted: a batch may hold thousands.
    pick = pa.array(rows, pa.int64())
    ids = batch.column(names.index("id")).take(pick).to_pylist()
    texts = batch.column(names.index("text")).take(pick).to_pylist() if "text" in names else None
    for j, i in enumerate(rows):
        examples.append(
            {
                "id": ids[j],
                "text": texts[j] if texts is not None else None,
                "label": golds[i] if golds is not None else None,
                "soft_label": dict(zip(labels, d[i].tolist(), strict=True)),
            }
        )


@dataclass
class KeywordsResult:
    table: pa.Table
    labels: list[str]
    stats: dict[str, Any]
    vocab_size: int  # the words in ``table`` (those --min-count keeps)
    words_seen: int  # every distinct word of DATA, before --min-count


def keywords(
    reader: Any,
    spec: Any,
    k1: float,
    b: float,
    min_count: int = 1,
    progress: Progress | None = None,
    labels: list[str] | None = None,
) -> KeywordsResult:
    """Fit word×label statistics on an opened DATA artifact (one streaming pass).

    ``labels`` fixes the label order (else DATA's own).
    """
    from lsctl.artifacts import require_columns
    from lsctl.smoothing.relevance import (
        K2,
        check_min_count,
        check_params,
        count_pass,
        keywords_table,
        stats_meta,
    )

    check_params(k1, b, K2)
    check_min_count(min_count)
    require_columns(reader.schema, ["text", "label"], reader.path)
    source, num_rows = _batch_source(reader)
    source = _nonblank_texts(source, reader.path)
    labels = _data_labels(reader, source, reader.path, labels)
    ctx = Context(labels, {}, source, num_rows, where=reader.path, meta=reader.meta)
    result = count_pass(
        ctx.batches(),
        spec,
        labels,
        ctx.label_indices,
        progress=progress,
        total_rows=num_rows,
        cache=False,
    )
    if result.total.n_tokens == 0:
        raise LsctlError(f"{reader.path}: no tokens in any text; nothing to count")
    table = keywords_table(result.vocab, result.total, labels, k1, b, min_count)
    import pyarrow.compute as pc

    kept = pc.count_distinct(table.column("word")).as_py()
    return KeywordsResult(table, labels, stats_meta(result.total, labels), kept, len(result.vocab))


def keywords_file(
    data: str,
    output: str | None,
    spec: Any,
    k1: float,
    b: float,
    min_count: int = 1,
    progress: Progress | None = None,
) -> KeywordsResult:
    """``lsctl keywords``: fit the statistics on DATA and write them to ``output`` (if given).

    The artifact's metadata holds the corpus statistics ``softlabel --keywords`` needs.
    """
    from lsctl.artifacts import check_output, make_meta, open_artifact, write_artifact

    reader = open_artifact(data)
    if output is not None:
        check_output(output, [data])
    result = keywords(reader, spec, k1, b, min_count, progress)
    if output is not None:
        meta = make_meta(
            "keywords",
            result.labels,
            params={"k1": k1, "b": b, "tokenizer": spec.to_dict(), "min_count": min_count},
            inputs=[reader.input_record()],
            stats=result.stats,
        )
        write_artifact(result.table, output, meta, inputs=[data])
    return result
