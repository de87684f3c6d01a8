"""The ``data import``, ``data split`` and ``data sample`` pipelines: read, compute, stamp, write.

Each function is one command's single core call: it builds every output's
metadata and writes it atomically; the CLI only parses and reports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from lsctl.errors import LsctlError, UsageError
from lsctl.progress import Progress

FORMATS = ("parquet", "arrows")


def import_file(
    src: str,
    output: str,
    *,
    text_col: str | None = None,
    label_col: str | None = None,
    split: str | None = None,
    encoding: str = "utf-8",
    drop_empty: bool = False,
    progress: Progress | None = None,
) -> Any:
    """Import ``src`` (file, HF directory, ``hf:NAME``, built-in) and write it to ``output``.

    Returns the :class:`lsctl.data.importers.Imported` result (table, labels,
    notes to show, rows dropped).
    """
    from lsctl.artifacts import check_output, make_meta, write_artifact
    from lsctl.data.importers import import_dataset

    check_output(output, [src])
    result = import_dataset(
        src,
        text_col=text_col,
        label_col=label_col,
        split=split,
        encoding=encoding,
        drop_empty=drop_empty,
        progress=progress,
    )
    params = {
        "source": src,
        **result.source,
        "drop_empty": drop_empty,
        "dropped_empty": result.dropped_empty,
    }
    meta = make_meta("dataset", result.labels, params, result.inputs)
    write_artifact(result.table, output, meta, [src])
    return result


@dataclass
class SplitResult:
    paths: dict[str, str]
    rows: dict[str, int]
    labels: list[str]


def _refuse_stale(output_dir: str, names: list[str]) -> None:
    """Refuse to write next to an earlier run's part this run would not replace.

    A test.parquet left from a split with --test, or a fold5/ from a run with
    more folds, would sit beside the new files as if it belonged to them.
    """
    stale = [n for n in names if os.path.exists(os.path.join(output_dir, n))]
    if stale:
        raise LsctlError(
            f"{os.path.join(output_dir, stale[0])}: left from an earlier run, and this one does "
            "not write it (it would look like part of this split); remove it or choose another -o"
        )


def _check_output_dir(output_dir: str, command: str) -> None:
    """``-o`` of a command that writes several files must name a directory."""
    if output_dir == "-":
        raise UsageError(f"{command} writes several files; give a directory with -o")
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise LsctlError(f"{output_dir}: exists and is not a directory; choose another -o")
    from lsctl.artifacts.io import FILE_EXTS, STREAM_EXTS
    from lsctl.data.importers import CSV_EXTS, JSONL_EXTS

    file_exts = (".parquet", *STREAM_EXTS, *FILE_EXTS, *CSV_EXTS, *JSONL_EXTS)
    ext = os.path.splitext(output_dir.rstrip("/"))[1].lower()
    if not os.path.isdir(output_dir) and ext in file_exts:
        # It would become a folder named like a file, holding train.parquet etc.
        raise UsageError(
            f"-o {output_dir}: {command} writes its files into a directory; give one "
            f"(e.g. -o {os.path.splitext(output_dir.rstrip('/'))[0]}/)"
        )


def split_file(
    file: str, output_dir: str, *, dev: float = 0.1, test: float = 0.1, seed: int = 0,
    fmt: str = "parquet",
) -> SplitResult:  # fmt: skip
    """Write ``output_dir/{train,dev,test}.{fmt}``: a stratified, seeded split of ``file``.

    Splits with fraction 0 are not written. All files are written to
    temporary names first and renamed together, so an interrupted split never
    leaves train without test; folders it created are removed on failure.
    """
    from contextlib import ExitStack

    from lsctl.artifacts import (
        check_output,
        label_indices,
        make_meta,
        read_artifact,
        resolve_labels,
        write_artifact,
    )
    from lsctl.artifacts.io import atomic_path, ensure_dir, missing_dirs, remove_empty_dirs
    from lsctl.data.split import SPLITS, check_fractions, stratified_split
    from lsctl.validation import check_choice

    check_fractions(dev, test)
    check_choice("fmt", fmt, FORMATS)
    _check_output_dir(output_dir, "data split")
    missing_dirs(output_dir)  # missing folders are made below; a file in the way is an error
    names = ["train"] + [s for s, f in (("dev", dev), ("test", test)) if f > 0]
    paths = {s: os.path.join(output_dir, f"{s}.{fmt}") for s in names}
    if os.path.isdir(output_dir):
        for p in paths.values():
            check_output(p, [file])
        mine = {os.path.basename(q) for q in paths.values()}
        _refuse_stale(
            output_dir, [f"{s}.{f}" for s in SPLITS for f in FORMATS if f"{s}.{f}" not in mine]
        )

    table, reader = read_artifact(file)
    where = "stdin" if file == "-" else file
    labels = resolve_labels(table, reader.meta, where)
    y = label_indices(table, labels, where)
    parts = stratified_split(y, labels, dev, test, seed)

    created = ensure_dir(output_dir)
    inputs = [reader.input_record()]
    rows = {}
    try:
        with ExitStack() as stack:
            tmps = {s: stack.enter_context(atomic_path(paths[s], suffix=f".{fmt}")) for s in parts}
            for s, idx in parts.items():
                params = {"split": s, "dev": dev, "test": test, "seed": seed, "stratified": True}
                write_artifact(
                    table.take(idx), tmps[s], make_meta("dataset", labels, params, inputs), [file]
                )
                rows[s] = int(idx.size)
    except BaseException:
        remove_empty_dirs(created)
        raise
    return SplitResult(paths, rows, labels)


@dataclass
class SampleResult:
    labels: list[str]
    kept: np.ndarray  # sorted row indices kept
    before: np.ndarray  # K rows per class before
    after: np.ndarray  # K rows per class after
    ratios: dict[str, float]  # label → share, "*" spelled out per label
    caps: dict[str, int]  # label → rows, likewise


def sample_file(
    file: str,
    output: str,
    *,
    ratio: dict[str, float] | None = None,
    cap: dict[str, int] | None = None,
    seed: int = 0,
) -> SampleResult:
    """Under-sample classes of ``file`` (``ratio``: label → share, ``cap``: label → rows).

    Classes not named are kept whole; the label list is kept.
    """
    from lsctl.artifacts import (
        check_output,
        label_indices,
        make_meta,
        read_artifact,
        resolve_labels,
        write_artifact,
    )
    from lsctl.noise.imbalance import (
        ALL_LABELS,
        check_cap,
        check_ratio,
        expand_all_labels,
        undersample,
    )
    from lsctl.validation import ParameterError

    ratios, caps = dict(ratio or {}), dict(cap or {})
    if not ratios and not caps:
        raise ParameterError(
            "give at least one {ratio:n} LABEL=R or {cap:n} LABEL=M", ratio=None, cap=None
        )
    for lab, r in ratios.items():
        check_ratio(lab, r)
    for lab, m in caps.items():
        check_cap(lab, m)
    check_output(output, [file])

    table, reader = read_artifact(file)
    where = "stdin" if file == "-" else file
    labels = resolve_labels(table, reader.meta, where)
    index = {lab: i for i, lab in enumerate(labels)}
    for option, given in (("--ratio", ratios), ("--cap", caps)):
        for lab in given:
            if lab not in index and lab != ALL_LABELS:
                raise LsctlError(
                    f"{option} {lab}: unknown label {lab!r}; the labels are {', '.join(labels)}"
                )

    ratios, caps = expand_all_labels(ratios, labels), expand_all_labels(caps, labels)
    y = label_indices(table, labels, where)
    keep = undersample(
        y,
        len(labels),
        {index[lab]: r for lab, r in ratios.items()},
        {index[lab]: m for lab, m in caps.items()},
        seed,
    )
    params = {"ratios": ratios, "caps": caps, "seed": seed}
    write_artifact(
        table.take(keep),
        output,
        make_meta("dataset", labels, params, [reader.input_record()]),
        [file],
    )
    k = len(labels)
    return SampleResult(
        labels,
        keep,
        np.bincount(y, minlength=k),
        np.bincount(y[keep], minlength=k),
        ratios,
        caps,
    )


@dataclass
class FoldsResult:
    paths: list[dict[str, str]]  # per fold: {"train": …, "heldout": …}
    heldout_rows: list[int]
    labels: list[str]


def folds_file(
    file: str, output_dir: str, *, folds: int = 5, seed: int = 0, fmt: str = "parquet"
) -> FoldsResult:
    """Write ``output_dir/fold{i}/{train,heldout}.{fmt}`` for i = 1..``folds``.

    Fold i's heldout file holds the rows the fold assignment gives fold i; its
    train file holds every other row. The assignment is the one
    ``softlabel --cross-fit F --seed S`` uses for out-of-fold KWLS statistics,
    so a teacher trained on ``fold{i}/train`` and run on ``fold{i}/heldout`` is
    out-of-fold on the same partition (the cross-fitted LS-Distill teacher).

    Examples
    --------
    ``lsctl data folds train.parquet -o folds/ --folds 5 --seed 0``
    """
    from contextlib import ExitStack

    from lsctl.artifacts import (
        check_output,
        make_meta,
        read_artifact,
        resolve_labels,
        write_artifact,
    )
    from lsctl.artifacts.io import atomic_path, ensure_dir, missing_dirs, remove_empty_dirs
    from lsctl.smoothing.relevance import fold_assignment
    from lsctl.validation import check_choice

    check_choice("fmt", fmt, FORMATS)
    if folds < 2:
        raise UsageError(f"--folds {folds}: need at least 2 folds")
    _check_output_dir(output_dir, "data folds")
    missing_dirs(output_dir)
    paths = [
        {s: os.path.join(output_dir, f"fold{i}", f"{s}.{fmt}") for s in ("train", "heldout")}
        for i in range(1, folds + 1)
    ]
    for fold in paths:
        for p in fold.values():
            if os.path.exists(p):
                check_output(p, [file])
    if os.path.isdir(output_dir):
        _refuse_stale(
            output_dir,
            sorted(
                e.name
                for e in os.scandir(output_dir)
                if e.is_dir()
                and e.name.startswith("fold")
                and e.name[4:].isdigit()
                and not 1 <= int(e.name[4:]) <= folds
            ),
        )

    table, reader = read_artifact(file)
    where = "stdin" if file == "-" else file
    labels = resolve_labels(table, reader.meta, where)
    if table.num_rows < folds:
        raise LsctlError(f"{where}: {table.num_rows} rows cannot fill {folds} folds")
    assign = fold_assignment(table.num_rows, folds, seed)
    inputs = [reader.input_record()]
    created = ensure_dir(output_dir)
    heldout_rows = []
    try:
        with ExitStack() as stack:
            for i, fold in enumerate(paths):
                created = ensure_dir(os.path.dirname(fold["train"])) + created
                for part, rows in (("train", assign != i), ("heldout", assign == i)):
                    tmp = stack.enter_context(atomic_path(fold[part], suffix=f".{fmt}"))
                    params = {"fold": i + 1, "folds": folds, "part": part, "seed": seed}
                    idx = np.flatnonzero(rows)
                    meta = make_meta("dataset", labels, params, inputs)
                    write_artifact(table.take(idx), tmp, meta, [file])
                heldout_rows.append(int((assign == i).sum()))
    except BaseException:
        remove_empty_dirs(created)
        raise
    return FoldsResult(paths, heldout_rows, labels)
