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
from lsctl.artifacts.columns import check_ids
from lsctl.errors import LsctlError, UsageError
from lsctl.evaluate import metrics
from lsctl.evaluate.naming import system_name
from lsctl.numeric import softmax
from lsctl.progress import Progress
from lsctl.validation import ParameterError, check_not_blank, check_one_stdin


@dataclass
class Evaluation:
    table: pa.Table
    meta: dict[str, Any]
    summary: dict[str, Any]
    probs: np.ndarray
    y: np.ndarray | None  # None for DATA without labels (predictions only)
    calibrated: Calibrated | None = None


@dataclass
class Calibrated:
    """Temperature-scaled predictions of the same data (``eval --calibrate``)."""

    table: pa.Table
    meta: dict[str, Any]
    summary: dict[str, Any]  # every metric after scaling, plus temperature and dev
    probs: np.ndarray


def run_seed(config: dict[str, Any]) -> int | None:
    seed = config.get("seed", config.get("options", {}).get("seed"))
    return int(seed) if seed is not None else None


def predictions_table(
    ids: pa.Array | pa.ChunkedArray | list[Any],
    labels: list[str],
    y: np.ndarray | None,
    logits: np.ndarray,
) -> tuple[pa.Table, np.ndarray]:
    """``id, label, pred, probs, logits`` columns from logits; returns (table, float64 probs)."""
    logits = np.asarray(logits, dtype=np.float64)
    probs = softmax(logits)
    names = np.asarray(labels, dtype=object)
    columns = {
        "id": ids,
        "label": None if y is None else pa.array(names[np.asarray(y)].tolist(), pa.string()),
        "pred": pa.array(names[probs.argmax(axis=1)].tolist(), pa.string()),
        "probs": prob_array(probs),
        "logits": prob_array(logits),
    }
    # Unlabelled data: predictions without a label column (and without metrics).
    table = pa.table({k: v for k, v in columns.items() if v is not None})
    return table, probs


def check_options(bins: int, batch_size: int, device: str = "auto") -> None:
    """The option rules of evaluation, named as parameters (``bins=0 must be >= 1``)."""
    from lsctl.validation import check_range

    check_range("bins", bins, low=1)
    check_range("batch_size", batch_size, low=1)
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise ParameterError("{device}: choose auto, cpu or cuda", device=device)


def evaluate(
    run_dir: str,
    data_path: str,
    name: str | None = None,
    bins: int = 15,
    batch_size: int = 256,
    device: str = "auto",
    progress: Progress | None = None,
    calibrate: str | None = None,
    labels_for: str | None = None,
) -> Evaluation:
    """Predict DATA with a run, score it, and (with ``calibrate``) temperature-scale it.

    DATA without a label column is predicted only: no metrics, ``y`` None
    (``labels_for`` names an option that needs labels, refused then).

    ``calibrate`` is a dev set: a labelled dataset (predicted with the same
    run) or a predictions artifact of that run written by ``lsctl eval``.
    """
    from lsctl.train.predict import load_predictor

    check_options(bins, batch_size, device)
    check_not_blank("name", name)
    if os.path.isdir(data_path) and os.path.isfile(run_dir):
        raise LsctlError(
            f"{data_path} is a directory and {run_dir} a file: the run comes first, then the "
            f"data (`lsctl eval {data_path} {run_dir}`)"
        )
    # The data is checked before the model loads: a bad file fails in milliseconds.
    table, reader = read_artifact(data_path)
    where = data_path
    table = ensure_id(texts(table, where))
    if table.num_rows == 0:
        raise LsctlError(f"{where}: no rows; nothing to evaluate")
    # compare pairs systems by id: repeated ids would only fail there, later.
    check_ids(table, where)
    # No label column: predict only (metrics, --calibrate and --plot need labels).
    labelled = "label" in table.column_names
    needs = "--calibrate (scored against labels)" if calibrate is not None else labels_for
    if not labelled and needs:
        raise UsageError(f"{where}: no label column, which {needs} needs; predict without it")
    data_labels = resolve_labels(table, reader.meta, where) if labelled else []
    given_name = name
    check_one_stdin({"DATA": data_path, "calibrate": calibrate})
    data_record = reader.input_record()
    dev_input = _read_dev(calibrate, data_record, table) if calibrate is not None else None
    if dev_input is not None and dev_input.is_predictions:
        # A temperature fitted on another model's predictions would scale this
        # one's logits by a number that means nothing for them.
        if (dev_input.meta or {}).get("calibration"):
            # Its logits are already divided by a temperature: a second fit
            # would give T'/T and scale this run's raw logits by it.
            raise LsctlError(
                f"--calibrate {calibrate}: these predictions are already temperature-scaled; "
                "give the run's uncalibrated predictions on DEV (lsctl eval RUN DEV -o …, "
                "without --calibrate) or DEV itself"
            )
        made_by = ((dev_input.meta or {}).get("params") or {}).get("run")
        if made_by and os.path.abspath(made_by) != os.path.abspath(run_dir):
            raise LsctlError(
                f"--calibrate {calibrate}: these predictions were made by the run {made_by}, "
                f"not {os.path.abspath(run_dir)}; give predictions of this run on the dev set "
                "(lsctl eval RUN DEV -o devpreds.parquet) or the dev dataset itself"
            )
    predictor = load_predictor(run_dir, device)
    if dev_input is not None:
        _refuse_training_dev(dev_input, predictor.config)
    run_labels = list(predictor.labels)
    extra = [lab for lab in data_labels if lab not in run_labels]
    if extra:
        raise LsctlError(
            f"{where}: label {extra[0]!r} is not one of the run's labels {run_labels}; "
            "evaluate on data with the run's label set"
        )
    y = label_indices(table, run_labels, where) if labelled else None
    logits = predictor.logits(table.column("text").to_pylist(), batch_size, progress)
    out, probs = predictions_table(table.column("id"), run_labels, y, logits)
    if labelled:
        summary = metrics.summary(probs, y, run_labels, bins)
    else:
        counts = np.bincount(probs.argmax(axis=1), minlength=len(run_labels))
        summary = {
            "n": len(probs),
            "labelled": False,
            "predicted": {lab: int(c) for lab, c in zip(run_labels, counts, strict=True)},
        }
    from lsctl.evaluate.convergence import run_convergence

    # How soon the run's dev accuracy neared its best (Gao et al.'s convergence
    # claim), carried with the predictions so compare and tables can use it.
    summary["convergence"] = run_convergence(run_dir)
    config = predictor.config
    # runs/ce-s1 … ce-s5 are the system "ce" (seeds from the runs), as plot curves has it.
    name = name or system_name(run_dir, run_seed(config))
    meta = make_meta(
        "predictions",
        run_labels,
        {"run": os.path.abspath(run_dir), "bins": bins, "batch_size": batch_size, "device": device},
        [data_record, {"path": os.path.abspath(run_dir), "sha256": None}],
        name=name,
        seed=run_seed(config),
        dataset_sha256=data_record["sha256"],
        run_config=config,
        metrics={
            k: v for k, v in summary.items() if k not in ("per_class", "convergence", "predicted")
        },
        convergence=summary["convergence"],
    )
    ev = Evaluation(out, meta, summary, probs, y)
    if dev_input is not None:
        dev_logits, dev_y = _dev_logits(dev_input, predictor, run_labels, batch_size, progress)
        ev.calibrated = _calibrated(ev, logits, dev_logits, dev_y, dev_input, bins, given_name)
    return ev


@dataclass
class _DevInput:
    path: str
    record: dict[str, Any]  # {"path", "sha256"} of the DEV file
    table: pa.Table
    meta: dict[str, Any] | None
    is_predictions: bool


def _read_dev(path: str, data_record: dict[str, Any], test: pa.Table) -> _DevInput:
    """Read DEV and refuse it when it is the test data (same content hash, or only
    test texts)."""
    table, reader = read_artifact(path)
    meta = reader.meta or {}
    is_preds = meta.get("kind") == "predictions" or (
        "probs" in table.column_names and "text" not in table.column_names
    )
    record = reader.input_record()
    test_sha = data_record.get("sha256")
    # A predictions file stands for the dataset it predicted.
    dev_sha = meta.get("dataset_sha256") if is_preds else record.get("sha256")
    if test_sha and (dev_sha == test_sha or record.get("sha256") == test_sha):
        raise LsctlError(
            f"--calibrate {path}: DEV has the same content as the test data (sha256 "
            f"{test_sha[:12]}…); fit the temperature on a held-out dev set"
        )
    # The hash catches the same file; the texts catch the same rows reached
    # another way (piped in, imported twice, a slice of the test set).
    if not is_preds and "text" in table.column_names and table.num_rows:
        import pyarrow.compute as pc

        test_texts = pc.unique(test.column("text").cast(pa.string()))
        if pc.all(pc.is_in(table.column("text").cast(pa.string()), value_set=test_texts)).as_py():
            raise LsctlError(
                f"--calibrate {path}: every DEV text is also in the test data; fit the "
                "temperature on a held-out dev set"
            )
    return _DevInput(path, record, table, reader.meta, is_preds)


def _refuse_training_dev(dev: _DevInput, run_config: dict[str, Any]) -> None:
    """Refuse a DEV that is the run's training data, or predictions on it: the
    model fits its training rows, so their temperature would be far too low."""
    from lsctl.artifacts.meta import training_hashes

    dev_sha = (dev.meta or {}).get("dataset_sha256") if dev.is_predictions else None
    dev_sha = dev_sha or dev.record.get("sha256")
    if dev_sha and dev_sha in training_hashes(run_config):
        raise LsctlError(
            f"--calibrate {dev.path}: DEV is the data this run was trained on; fit the "
            "temperature on held-out rows (the run's --dev set, or a split the run never saw)"
        )


def _dev_logits(
    dev: _DevInput,
    predictor: Any,
    run_labels: list[str],
    batch_size: int,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Dev logits in the run's label order, and dev gold indices."""
    where = f"--calibrate {dev.path}"
    if not dev.is_predictions:
        table = texts(dev.table, where)
        labels = resolve_labels(table, dev.meta, where)
        extra = [lab for lab in labels if lab not in run_labels]
        if extra:
            raise LsctlError(f"{where}: label {extra[0]!r} is not one of the run's labels")
        y = label_indices(table, run_labels, where)
        z = predictor.logits(table.column("text").to_pylist(), batch_size, progress)
        return np.asarray(z, dtype=np.float64), y
    from lsctl.artifacts import prob_matrix, vector_labels

    labels = vector_labels(dev.table, dev.meta, where, "probs", prove_with=("pred",), option=None)
    if sorted(labels) != sorted(run_labels):
        raise LsctlError(
            f"{where}: its labels {labels} are not the run's labels {run_labels}; "
            "give predictions of this run"
        )
    order = [labels.index(lab) for lab in run_labels]
    k = len(labels)
    if "logits" in dev.table.column_names:
        z = prob_matrix(dev.table.column("logits"), k, where, "logits")
    else:
        from lsctl.evaluate.calibrate import logits_from_probs

        z = logits_from_probs(prob_matrix(dev.table.column("probs"), k, where, "probs"))
    y = label_indices(dev.table, run_labels, where)
    return np.asarray(z, dtype=np.float64)[:, order], y


def _calibrated(
    ev: Evaluation,
    logits: np.ndarray,
    dev_logits: np.ndarray,
    dev_y: np.ndarray,
    dev: _DevInput,
    bins: int,
    name: str | None,
) -> Calibrated:
    from lsctl.evaluate import calibrate as ts

    if not np.isfinite(dev_logits).all():
        raise LsctlError(f"--calibrate {dev.path}: non-finite logits or probabilities")
    t = ts.fit_temperature(dev_logits, dev_y)
    z, probs = ts.scale(logits, t)
    labels = ev.meta["labels"]
    table, probs = predictions_table(ev.table.column("id"), labels, ev.y, z)
    summary = metrics.summary(probs, ev.y, labels, bins)
    record = {
        "method": "temperature",
        "temperature": t,
        "dev": dev.record,
        "dev_n": len(dev_y),
        "dev_nll_before": ts.temperature_nll(dev_logits, dev_y, 1.0),
        "dev_nll_after": ts.temperature_nll(dev_logits, dev_y, t),
        "dev_source": "predictions" if dev.is_predictions else "dataset",
    }
    meta = {
        **ev.meta,
        # A calibrated system is another system for `compare`: its own name.
        "name": name if name is not None else f"{ev.meta['name']}-ts",
        "inputs": [*ev.meta["inputs"], dev.record],
        "calibration": record,
        "metrics": {k: v for k, v in summary.items() if k != "per_class"},
        "uncalibrated_metrics": ev.meta["metrics"],
    }
    meta["params"] = {**ev.meta["params"], "calibrate": dev.record["path"]}
    return Calibrated(table, meta, {**summary, **record}, probs)


def evaluate_file(
    run_dir: str,
    data_path: str,
    output: str | None = None,
    *,
    name: str | None = None,
    bins: int = 15,
    batch_size: int = 256,
    device: str = "auto",
    calibrate: str | None = None,
    plot: str | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """``lsctl eval``: evaluate, then write the predictions to ``output`` and draw ``plot``.

    With ``calibrate`` the written and plotted system is the temperature-scaled one.
    Outputs are checked before the model loads, so a bad path fails at once.
    """
    from lsctl.artifacts import check_output, write_artifact

    check_options(bins, batch_size, device)
    check_one_stdin({"DATA": data_path, "calibrate": calibrate})
    inputs = [data_path] if calibrate is None else [data_path, calibrate]
    if output is not None:
        check_output(output, inputs)
    if plot:
        from lsctl.evaluate.plots import check_plot_path

        check_plot_path(plot)
    ev = evaluate(
        run_dir,
        data_path,
        name,
        bins,
        batch_size,
        device,
        progress,
        calibrate,
        labels_for="--plot (a reliability diagram)" if plot else None,
    )
    cal = ev.calibrated
    table, meta, probs = (
        (ev.table, ev.meta, ev.probs) if cal is None else (cal.table, cal.meta, cal.probs)
    )
    if output is not None:
        write_artifact(table, output, meta, inputs)
    if plot:
        from lsctl.evaluate.metrics import reliability
        from lsctl.evaluate.plots import reliability_diagram

        title = (
            meta["name"] if cal is None else f"{meta['name']} (T={cal.summary['temperature']:.3f})"
        )
        reliability_diagram(reliability(probs, ev.y, bins), plot, title)
    return ev
