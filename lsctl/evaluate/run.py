"""Predict a dataset with a trained run and build the predictions artifact."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from lsctl.artifacts import (
    ensure_id,
    label_indices,
    make_meta,
    prob_array,
    read_artifact,
    resolve_labels,
    texts,
)
from lsctl.errors import LsctlError
from lsctl.evaluate import metrics
from lsctl.progress import Progress
from lsctl.smoothing.relevance import softmax


@dataclass
class Evaluation:
    table: pa.Table
    meta: dict[str, Any]
    summary: dict[str, Any]
    probs: np.ndarray
    y: np.ndarray


def run_seed(config: dict[str, Any]) -> int | None:
    seed = config.get("seed", config.get("options", {}).get("seed"))
    return int(seed) if seed is not None else None


def predictions_table(
    ids: pa.Array | pa.ChunkedArray | list[Any],
    labels: list[str],
    y: np.ndarray,
    logits: np.ndarray,
) -> tuple[pa.Table, np.ndarray]:
    """``id, label, pred, probs, logits`` columns from logits; returns (table, float64 probs)."""
    logits = np.asarray(logits, dtype=np.float64)
    probs = softmax(logits)
    names = np.asarray(labels, dtype=object)
    table = pa.table(
        {
            "id": ids,
            "label": pa.array(names[np.asarray(y)].tolist(), pa.string()),
            "pred": pa.array(names[probs.argmax(axis=1)].tolist(), pa.string()),
            "probs": prob_array(probs),
            "logits": prob_array(logits),
        }
    )
    return table, probs


def evaluate(
    run_dir: str,
    data_path: str,
    name: str | None = None,
    bins: int = 15,
    batch_size: int = 256,
    device: str = "auto",
    progress: Progress | None = None,
) -> Evaluation:
    from lsctl.train.predict import load_predictor

    if bins < 1:
        raise LsctlError("--bins must be at least 1")
    if batch_size < 1:
        raise LsctlError("--batch-size must be at least 1")
    # The data is checked before the model loads: a bad file fails in milliseconds.
    table, reader = read_artifact(data_path)
    where = data_path
    table = ensure_id(texts(table, where))
    data_labels = resolve_labels(table, reader.meta, where)
    predictor = load_predictor(run_dir, device)
    run_labels = list(predictor.labels)
    extra = [lab for lab in data_labels if lab not in run_labels]
    if extra:
        raise LsctlError(
            f"{where}: label {extra[0]!r} is not one of the run's labels {run_labels}; "
            "evaluate on data with the run's label set"
        )
    y = label_indices(table, run_labels, where)
    logits = predictor.logits(table.column("text").to_pylist(), batch_size, progress)
    out, probs = predictions_table(table.column("id"), run_labels, y, logits)
    summary = metrics.summary(probs, y, run_labels, bins)
    data_record = reader.input_record()
    config = predictor.config
    name = name or os.path.basename(os.path.normpath(os.path.abspath(run_dir)))
    meta = make_meta(
        "predictions",
        run_labels,
        {"run": os.path.abspath(run_dir), "bins": bins, "batch_size": batch_size, "device": device},
        [data_record, {"path": os.path.abspath(run_dir), "sha256": None}],
        name=name,
        seed=run_seed(config),
        dataset_sha256=data_record["sha256"],
        run_config=config,
        metrics={k: v for k, v in summary.items() if k != "per_class"},
    )
    return Evaluation(out, meta, summary, probs, y)
