"""The interface every soft-label method implements.

A method is a subclass of :class:`Method` in its own module under
``lsctl/smoothing/``; the registry finds it there, so adding a method touches
one file. ``lsctl softlabel`` drives it like this::

    m = registry.get(name)()
    m.validate(params)          # range checks, before any data is read
    m.prepare(ctx)              # optional: fit statistics, read extra inputs
    for start, batch in ctx.batches():
        d = m.targets(ctx, batch, start)   # len(batch)×K float64
    m.finish(ctx)               # optional: final warnings

What a method can use:

- ``ctx.batches()``: ``(start, RecordBatch)`` pairs over the input rows, in
  order; ``start`` is the global row index of the batch's first row. It can be
  iterated more than once (``prepare`` may make a statistics pass). Every
  batch has an ``id`` column (the input's own, else the row index).
- ``ctx.labels``: the label order of the output vectors (None when DATA has no
  ``label`` column); ``prepare`` may set it, e.g. to a keywords artifact's or a
  teacher's order, after checking it against DATA's. ``ctx.label_indices(batch)``
  maps a batch's ``label`` column to indices (a clear error if it is missing).
- ``ctx.meta``: DATA's own ``lsctl`` metadata (None for plain Parquet).
- ``ctx.params``: every ``softlabel`` option by name (``epsilon``, ``rate``,
  ``k1``, ``teacher``, ``temperature``, …). A method declares its own once, in
  ``options`` (:class:`lsctl.params.Param`: name, type, default, range, help);
  the ``softlabel`` options, their validation, the recorded metadata
  (``param_names``) and the Python API's keyword arguments all come from it.
- ``ctx.add_input(path, param)``: opens another artifact (e.g. a teacher's
  predictions, given as ``param``) and records its path and hash in the
  output's ``inputs``; ``-`` is refused when DATA already reads stdin.
- ``ctx.warn(msg)``: a warning shown to the user after the run (and in ``--json``).
- ``ctx.info``: a dict of extra facts to record under ``params`` in the
  output's metadata (e.g. where statistics came from).
- ``ctx.progress``: a :class:`lsctl.progress.Progress` for long steps.

Raise :class:`lsctl.errors.LsctlError` for bad input; never print.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from lsctl.errors import LsctlError
from lsctl.params import Param, check_all
from lsctl.progress import NullProgress, Progress

# Inputs up to this size stay in memory after one complete pass.
HOLD_BYTES = 64 << 20


def fits(used: int, rows_seen: int, total_rows: int | None, budget: int) -> bool:
    """Whether a per-row cost (``used`` bytes over ``rows_seen`` rows) stays within ``budget``.

    With the row count known, the whole input is projected from what was seen:
    holding the first batches of an input that will not fit only raises the
    high-water mark (they are dropped or outlived later, and their freed pages
    stay with the allocator), so a large input holds nothing from the start.
    Without it (a stream), what was seen so far is all there is to go by.

    >>> fits(10, 100, 1000, budget=64), fits(10, 100, None, budget=64)
    (False, True)
    """
    if used > budget:
        return False
    if total_rows is None or rows_seen <= 0:
        return True
    return used * total_rows <= budget * rows_seen


@dataclass
class Context:
    """What a method sees of the run; built by the CLI (or by tests/library code)."""

    labels: list[str] | None
    params: dict[str, Any]
    batch_source: Callable[[], Iterator[pa.RecordBatch]]
    num_rows: int | None = None
    where: str = "DATA"
    meta: dict[str, Any] | None = None
    progress: Progress = field(default_factory=NullProgress)
    # The extra artifacts opened by add_input, recorded when asked (inputs).
    readers: list[Any] = field(default_factory=list, repr=False)
    warnings: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    _held: list[tuple[int, pa.RecordBatch]] | None = field(default=None, repr=False)

    @classmethod
    def from_table(
        cls, table: pa.Table, labels: list[str] | None, params: dict[str, Any], **kw: Any
    ) -> Context:
        """A context over an in-memory table (library use and tests)."""
        from lsctl.artifacts import ensure_id

        table = ensure_id(table)
        batch_size = kw.pop("batch_size", 65_536)
        return cls(
            labels=list(labels) if labels is not None else None,
            params=dict(params),
            batch_source=lambda: iter(table.to_batches(max_chunksize=batch_size)),
            num_rows=table.num_rows,
            **kw,
        )

    def batches(self) -> Iterator[tuple[int, pa.RecordBatch]]:
        # A complete first pass over a small input is held, so a second pass
        # (statistics, then targets) does not read and decode the file again.
        if self._held is not None:
            yield from self._held
            return
        from lsctl.artifacts.columns import numpy_array

        held: list[tuple[int, pa.RecordBatch]] | None = []
        size = 0
        start = 0
        for batch in self.batch_source():
            if "id" not in batch.schema.names:
                ids = numpy_array(np.arange(start, start + batch.num_rows, dtype=np.int64))
                batch = pa.RecordBatch.from_arrays(
                    [ids, *batch.columns], names=["id", *batch.schema.names]
                )
            if held is not None:
                size += batch.nbytes
                if fits(size, start + batch.num_rows, self.num_rows, HOLD_BYTES):
                    held.append((start, batch))
                else:
                    held = None
            yield start, batch
            start += batch.num_rows
        self.num_rows = start
        self._held = held

    def require_labels(self) -> list[str]:
        """The label list, or a clear error when DATA has no ``label`` column."""
        if self.labels is None:
            raise LsctlError(
                f"{self.where}: no column 'label'; method {self.params.get('method', '?')!r} "
                "needs hard labels"
            )
        return self.labels

    def label_indices(self, batch: pa.RecordBatch | pa.Table) -> np.ndarray:
        from lsctl.artifacts import label_indices

        if "label" not in batch.schema.names or self.labels is None:
            raise LsctlError(
                f"{self.where}: no column 'label'; method {self.params.get('method', '?')!r} "
                "needs hard labels"
            )
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        if table.column("label").null_count:
            raise LsctlError(f"{self.where}: some rows have no label; drop or fill them first")
        return label_indices(table, self.labels, self.where)

    def add_input(self, path: str, param: str) -> Any:
        """Open another artifact (given as ``param``) and record it as an input;
        returns its ArtifactReader."""
        from lsctl.artifacts import open_artifact
        from lsctl.validation import check_one_stdin

        # A pipe carries one artifact: with DATA on stdin, this one would find it drained.
        check_one_stdin({"DATA": self.where, param: path})
        reader = open_artifact(path)
        self.readers.append(reader)
        return reader

    @property
    def inputs(self) -> list[dict[str, Any]]:
        """``{"path", "sha256"}`` of each add_input artifact. Asked after the
        rows are written, so a piped one has its hash (it is read by then)."""
        return [r.input_record() for r in self.readers]

    def warn(self, message: str) -> None:
        self.warnings.append(message)


class Method:
    """Base class of soft-label methods. Subclasses set the class attributes."""

    name: ClassVar[str] = ""
    help: ClassVar[str] = ""
    # The method's parameters, declared once (see the module docstring).
    options: ClassVar[tuple[Param, ...]] = ()
    # Derived from ``options``: the ctx.params keys recorded in the output
    # metadata, and those read but recorded in another form (a tokenizer's
    # description). Both are accepted by the Python API.
    param_names: ClassVar[tuple[str, ...]] = ()
    extra_params: ClassVar[tuple[str, ...]] = ()
    needs_labels: ClassVar[bool] = True
    # Methods that read the texts (word statistics) need a text column.
    needs_text: ClassVar[bool] = False
    # Targets whose spread comes from the data rather than a chosen rate can
    # come out nearly uniform; ``softlabel`` then warns (run.flat_warning).
    warn_if_flat: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.param_names = tuple(p.name for p in cls.options if p.record)
        cls.extra_params = tuple(p.name for p in cls.options if not p.record)

    def validate(self, params: dict[str, Any]) -> None:
        """Check the declared ranges and choices; raise LsctlError. Runs before any data is read.

        Subclasses add rules between parameters after calling this.
        """
        check_all(self.options, params)

    def prepare(self, ctx: Context) -> None:
        """Fit whatever the method needs (may iterate ``ctx.batches()``)."""

    def targets(self, ctx: Context, batch: pa.RecordBatch, start: int) -> np.ndarray:
        """``batch.num_rows × len(ctx.labels)`` float64 targets for one batch."""
        raise NotImplementedError

    def finish(self, ctx: Context) -> None:
        """Called once after the last batch (e.g. to add warnings with totals)."""
