"""The run directory: config.json, weights, vocab.json, metrics.parquet, checkpoint/.

Layout::

    RUN/config.json        every option, labels, seed, versions, input hashes, result
    RUN/vocab.json         textcnn/lstm vocabulary and tokenizer
    RUN/model.safetensors  textcnn/lstm weights of the dev-selected epoch
    RUN/hf_model/          hf: models, a save_pretrained folder transformers loads as is
    RUN/metrics.parquet    one row per epoch
    RUN/checkpoint/        state for --resume

Every file is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from lsctl.errors import LsctlError

CONFIG = "config.json"
VOCAB = "vocab.json"
WEIGHTS = "model.safetensors"
HF_DIR = "hf_model"
METRICS = "metrics.parquet"

METRIC_COLUMNS = (
    "epoch",
    "phase",
    "loss",
    "train_loss",
    "dev_accuracy",
    "dev_nll",
    "lr",
    "seconds",
    "examples_per_s",
    "steps",
)


def prepare(run: str, resume: bool) -> list[str]:
    """Create RUN (and missing parents), refusing to mix a new run into an old one.

    Returns the directories created, deepest first, so a run that fails
    before writing anything can remove them (``remove_empty_dirs``).
    """
    if os.path.exists(run) and not os.path.isdir(run):
        raise LsctlError(f"{run}: exists and is not a directory; choose another -o")
    if resume:
        if not os.path.isdir(run):
            raise LsctlError(f"{run}: no such run to resume; start without --resume")
        return []
    if os.path.isdir(run) and os.listdir(run):
        raise LsctlError(
            f"{run}: already holds a run; continue it with --resume or choose another -o"
        )
    from lsctl.artifacts.io import ensure_dir

    return ensure_dir(run)


def clear(run: str) -> None:
    """Remove everything inside RUN, keeping RUN itself."""
    import shutil

    for entry in os.scandir(run):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.remove(entry.path)


def write_json(run: str, name: str, obj: dict[str, Any]) -> None:
    from lsctl.artifacts.io import atomic_path

    with atomic_path(os.path.join(run, name)) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False, default=str)
        f.write("\n")


def read_config(run: str) -> dict[str, Any]:
    target = os.path.join(run, CONFIG)
    try:
        with open(target, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise LsctlError(f"{run}: not a training run ({CONFIG} is missing)") from None
    except (OSError, ValueError) as e:
        raise LsctlError(f"{target}: cannot read ({e})") from e


def save_weights(run: str, state: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    from lsctl.artifacts.io import atomic_path

    with atomic_path(os.path.join(run, WEIGHTS), suffix=".safetensors") as tmp:
        save_file({k: v.detach().contiguous().cpu() for k, v in state.items()}, tmp)


def load_weights(run: str) -> dict[str, Any]:
    from safetensors.torch import load_file

    target = os.path.join(run, WEIGHTS)
    if not os.path.exists(target):
        raise LsctlError(f"{run}: no {WEIGHTS}; the run has not finished an epoch yet")
    try:
        return load_file(target)
    except Exception as e:  # safetensors raises its own SafetensorError, not OSError
        raise LsctlError(
            f"{target}: cannot read the weights, the file is truncated or corrupt "
            f"({' '.join(str(e).split())[:120]}); retrain, or restore it from a copy"
        ) from e


def save_hf(
    run: str,
    hf_model: Any,
    tokenizer: Any,
    max_length: int | None = None,
    card: str | None = None,
) -> None:
    """save_pretrained into a fresh folder, then swap it in (a rename per step).

    ``max_length`` becomes the saved tokenizer's ``model_max_length``, so a
    plain ``transformers`` ``pipeline()`` truncates as training and ``lsctl
    eval`` did (a hub tokenizer may say 512 or, unset, 1e30). ``card`` is
    written as the folder's ``README.md`` (the model card).
    """
    target = os.path.join(run, HF_DIR)
    tmp, old = target + ".tmp", target + ".old"
    shutil.rmtree(tmp, ignore_errors=True)
    from lsctl.train.models import quiet_transformers

    if max_length is not None:
        tokenizer.model_max_length = int(max_length)
    with quiet_transformers():
        hf_model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    if card is not None:
        with open(os.path.join(tmp, "README.md"), "w", encoding="utf-8") as f:
            f.write(card)
    if os.path.exists(target):
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def write_metrics(
    run: str,
    rows: list[dict[str, Any]],
    labels: list[str],
    params: dict,
    selected: int | None = None,
) -> None:
    """One row per epoch; ``phase`` is warmup/main, ``selected`` marks the saved epoch."""
    import pyarrow as pa

    from lsctl.artifacts import make_meta, write_artifact

    # A checkpoint written before the steps column existed has rows without it.
    columns: dict[str, list[Any]] = {c: [r.get(c) for r in rows] for c in METRIC_COLUMNS}
    columns["selected"] = [r["epoch"] == selected for r in rows]
    schema = pa.schema(
        [
            ("epoch", pa.int32()),
            ("phase", pa.string()),
            ("loss", pa.string()),
            *((c, pa.float64()) for c in METRIC_COLUMNS[3:-1]),
            ("steps", pa.int64()),
            ("selected", pa.bool_()),
        ]
    )
    table = pa.table(columns, schema=schema)
    write_artifact(table, os.path.join(run, METRICS), make_meta("run", labels, params))
