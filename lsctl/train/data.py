"""Read TRAIN/DEV artifacts into texts, label indices and soft targets (numpy).

Torch-free: the loop turns these into tensors once per run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lsctl.artifacts import (
    check_distributions,
    label_indices,
    prob_matrix,
    read_artifact,
    resolve_labels,
    texts,
    vector_labels,
)
from lsctl.data.split import stratified_split
from lsctl.errors import LsctlError, UsageError
from lsctl.train.config import TrainConfig


@dataclass
class Split:
    texts: list[str]
    y: np.ndarray  # int64 label indices
    targets: np.ndarray | None = None  # N×K float64 soft targets


@dataclass
class TrainData:
    labels: list[str]
    train: Split
    dev: Split
    inputs: list[dict[str, Any]]
    targets_source: str  # "soft_label", "label-smoothing", "ols" or "none"
    dev_source: str  # path of DEV, or "split"
    dropped_empty: dict[str, int] = field(default_factory=dict)  # rows per input
    targets_detail: str = ""  # where the soft targets came from, for the model card


def _checked_texts(
    table: Any, where: str, drop_empty: bool, warn: Callable[[str], None], dropped: dict
) -> Any:
    """Null/blank texts: an error naming --drop-empty, or dropped with a warning."""
    before = table.num_rows
    table = texts(table, where, drop_empty=drop_empty)
    n = before - table.num_rows
    dropped[where] = n
    if n:
        rows = "1 row" if n == 1 else f"{n:,} rows"
        warn(f"{where}: dropped {rows} with null or empty text (--drop-empty)")
        if not table.num_rows:
            raise LsctlError(f"{where}: no rows left after --drop-empty")
    return table


def load(config: TrainConfig, warn: Callable[[str], None] | None = None) -> TrainData:
    warn = warn or (lambda msg: None)
    dropped: dict[str, int] = {}
    table, reader = read_artifact(config.train)
    where = config.train
    table = _checked_texts(table, where, config.drop_empty, warn, dropped)
    uses_soft = (
        config.needs_targets
        and config.label_smoothing is None
        and "soft_label" in table.column_names
    )
    if uses_soft:
        # The targets' positions carry no names: their order is never guessed.
        labels = vector_labels(table, reader.meta, where, "soft_label", config.labels)
    else:
        labels = resolve_labels(table, reader.meta, where, config.labels)
    if table.num_rows == 0:
        raise LsctlError(f"{where}: no rows to train on")
    if len(labels) < 2:
        raise LsctlError(f"{where}: only one label ({labels[0]!r}); training needs at least 2")
    y = label_indices(table, labels, where)
    train_texts = [str(t) for t in table.column("text").to_pylist()]
    inputs = [reader.input_record()]

    targets: np.ndarray | None = None
    source = "none"
    has_soft = "soft_label" in table.column_names
    if (
        has_soft
        and not uses_soft
        and not (config.label_smoothing is not None and config.needs_targets)
    ):
        # Soft labels made for this run and a loss that never reads them: the
        # run is not what the user believes it is. (With --label-smoothing and a
        # soft loss the conflict is an error, below.)
        how = f"--loss {config.loss}" + (
            " with --label-smoothing" if config.label_smoothing is not None else ""
        )
        warn(
            f"{where} has a soft_label column, which {how} does not read; train with "
            "--loss aux (the KWLS paper's) or --loss soft, without --label-smoothing, to use it"
        )
    if config.loss == "ols":
        # OLS makes its own targets in the loop; --label-smoothing is S_0's rate.
        source = "ols"
    elif config.label_smoothing is not None:
        if has_soft and config.needs_targets:
            raise UsageError(
                f"{where} already has soft_label targets; drop --label-smoothing or train "
                "on the plain dataset"
            )
        from lsctl.smoothing.uniform import uniform_targets

        targets = uniform_targets(y, len(labels), config.label_smoothing, convention="k")
        source = "label-smoothing"
    elif config.needs_targets:
        if not has_soft:
            raise LsctlError(
                f"{where}: --loss {config.loss} needs a soft_label column; make one with "
                f"`lsctl softlabel --method kwls {config.train} -o soft.parquet` or pass "
                "--label-smoothing E"
            )
        targets = prob_matrix(table.column("soft_label"), len(labels), where, "soft_label")
        # Targets sum to 1; NLS targets may have negative entries, so those pass.
        check_distributions(targets, where, "soft_label", negative_ok=True)
        source = "soft_label"

    if source == "soft_label":
        made_by = ((reader.meta or {}).get("params") or {}).get("method")
        detail = (
            f"the soft_label column, made by `lsctl softlabel --method {made_by}`"
            if made_by
            else "the soft_label column (its maker is not recorded)"
        )
    elif source == "label-smoothing":
        detail = f"uniform targets made in training, --label-smoothing {config.label_smoothing}"
    elif source == "ols":
        detail = (
            "online label smoothing: a K×K matrix updated after every epoch, from uniform "
            f"label smoothing ε = {config.ols_epsilon}"
        )
    else:
        detail = "none: hard labels only"
    train = Split(train_texts, y, targets)
    if config.dev:
        dtable, dreader = read_artifact(config.dev)
        dtable = _checked_texts(dtable, config.dev, config.drop_empty, warn, dropped)
        dev = Split(
            [str(t) for t in dtable.column("text").to_pylist()],
            label_indices(dtable, labels, config.dev),
        )
        inputs.append(dreader.input_record())
        dev_source = config.dev
    else:
        # The splitter of `lsctl data split`: the same dev set as
        # `data split --dev F --test 0 --seed S` would write.
        parts = stratified_split(y, labels, config.dev_split, 0.0, config.seed)
        tr_idx, dev_idx = parts["train"], parts.get("dev", np.zeros(0, np.int64))
        dev = Split([train_texts[i] for i in dev_idx], y[dev_idx])
        train = Split(
            [train_texts[i] for i in tr_idx],
            y[tr_idx],
            targets[tr_idx] if targets is not None else None,
        )
        dev_source = "split"
    if not dev.texts:
        raise LsctlError("the dev set is empty; pass --dev DEV or a larger --dev-split")
    return TrainData(labels, train, dev, inputs, source, dev_source, dropped, detail)
