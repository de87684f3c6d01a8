"""Train, evaluate and compare from Python: ``lsctl.train``, ``lsctl.evaluate``, ``lsctl.compare``.

Each takes artifact paths or in-memory tables (pandas, polars, pyarrow) and
returns a result object; they call the same core as ``lsctl train``,
``lsctl eval`` and ``lsctl compare``. Tables are written to a temporary
Parquet file first, with their label order when they carry one, because
the training and evaluation code reads artifacts.
"""

from __future__ import annotations

import glob
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from lsctl.api import named_tables, one_command, table_file, warn_user
from lsctl.validation import ParameterError, check_range, check_sequence, check_type


def _as_path(data: Any, folder: str, name: str, argument: str) -> str:
    """``data`` itself when it is a path; else the table written to ``folder/name.parquet``.

    Errors about that file name ``argument`` (the keyword the table came as).
    """
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    from lsctl.api.tables import index_ids, label_order, natural_order, to_arrow
    from lsctl.artifacts import write_artifact
    from lsctl.artifacts.meta import META_KEY, decode_meta, make_meta

    table = index_ids(to_arrow(data, argument), data)
    if META_KEY in (table.schema.metadata or {}):
        meta = decode_meta(table.schema.metadata, name)
    elif getattr(data, "attrs", {}).get("lsctl"):  # a pandas frame from lsctl.soft_labels
        meta = data.attrs["lsctl"]
    else:
        try:
            labels = label_order(data)
        except ParameterError:
            labels = None
        if labels is None and "label" in table.column_names:
            labels = natural_order(table.column("label"))  # 2 before 10
        kind = (
            "predictions"
            if "probs" in table.column_names
            else "softlabels"
            if "soft_label" in table.column_names
            else "dataset"
        )
        # No creation time: the same table gives the same bytes, so a resumed
        # run recognises its data by content.
        meta = make_meta(kind, labels, created_at=None)
    path = table_file(os.path.join(folder, f"{name}.parquet"), argument)
    write_artifact(table.replace_schema_metadata(None), path, meta)
    return path


@one_command
def train(data: Any, output: str, *, dev: Any = None, resume: bool = False, **options: Any) -> Any:
    """Train a classifier and write its run directory, as ``lsctl train``.

    Parameters
    ----------
    data : str or table
        Training rows: ``text``, ``label`` and, for the soft losses, ``soft_label``
        (e.g. the result of :func:`lsctl.soft_labels`).
    output : str
        The run directory to write (``lsctl.evaluate`` reads it).
    dev : str or table, optional
        Model selection and early stopping data; default: a stratified
        ``dev_split`` share of ``data``.
    resume : bool
        Continue the interrupted run in ``output`` (same data and options, as
        ``lsctl train --resume``); tables are matched by content.
    **options
        :class:`lsctl.train.config.TrainConfig` fields, named as the
        ``train`` options with underscores: ``model``, ``loss``, ``epochs``,
        ``batch_size``, ``lr``, ``seed``, ``alpha``, ``label_smoothing``, ….

    Returns
    -------
    lsctl.train.loop.TrainResult
        ``run``, ``labels``, ``history`` (one dict per epoch), ``best``,
        ``stopped``, ``model`` (the torch module); ``summary()`` is what
        ``lsctl train --json`` prints.

    Examples
    --------
    A fastText model on a DataFrame, three epochs, then its predictions:

    >>> import tempfile, lsctl, pandas as pd
    >>> rows = pd.DataFrame({"text": ["great fun", "dull plot", "great cast", "dull pace"] * 8,
    ...                      "label": ["pos", "neg"] * 16})
    >>> tmp = tempfile.TemporaryDirectory()  # removed when the session ends
    >>> run = f"{tmp.name}/run"
    >>> result = lsctl.train(rows, run, dev=rows, model="fasttext", epochs=3, seed=1)
    >>> result.labels, len(result.history), result.stopped
    (['neg', 'pos'], 3, 'completed')
    >>> lsctl.evaluate(run, rows.iloc[:4]).summary["accuracy"]
    1.0
    """
    import dataclasses

    from lsctl.train.config import TrainConfig

    fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"train", "output", "dev"}
    unknown = sorted(set(options) - fields)
    if unknown:
        raise ParameterError(
            f"{{{unknown[0]}:n}} is not a training option; see lsctl.train.config.TrainConfig",
            **{unknown[0]: options[unknown[0]]},
        )
    from lsctl.api import table_names
    from lsctl.api.tables import column_names
    from lsctl.train.loop import train as run_training
    from lsctl.validation import check_bool

    check_bool("resume", resume)
    _check_path("output", output)
    _check_option_types(options)
    with tempfile.TemporaryDirectory(prefix="lsctl-api-") as tmp:
        config = TrainConfig(
            train=_as_path(data, tmp, "train", "data"),
            output=os.fspath(output),
            dev=None if dev is None else _as_path(dev, tmp, "dev", "dev"),
            **options,
        )
        # A preset fills the options not given, as on the command line.
        given = {k for k, v in options.items() if v is not None and k != "preset"}
        config = config.with_preset(config.preset, keep=given).resolved()
        if (
            config.needs_targets
            and config.label_smoothing is None
            and not isinstance(data, (str, os.PathLike))
            and "soft_label" not in column_names(data)
        ):
            raise ParameterError(
                "{loss} needs a soft_label column in {data:n}; add one with "
                "lsctl.soft_labels(data, 'kwls'), or give {label_smoothing:n}",
                loss=config.loss,
                data=None,
                label_smoothing=None,
            )
        # A table's temporary file is gone once this returns: the run's records
        # name the argument it came as ("data (a table)"), beside its hash.
        shown = {p: table_names(p) for p in (config.train, config.dev) if p and table_names(p) != p}
        return run_training(config, resume=resume, shown=shown, warn=warn_user)


def _check_path(name: str, value: Any) -> None:
    if not isinstance(value, (str, os.PathLike)):
        raise ParameterError(
            f"{{{name}:n}} is a run directory's path, not {type(value).__name__}", **{name: None}
        )


def _check_option_types(options: dict[str, Any]) -> None:
    """Each training option of the type TrainConfig declares (2.5 epochs is not 2)."""
    import dataclasses

    from lsctl.train.config import TrainConfig
    from lsctl.validation import check_type

    kinds = {"bool": bool, "int": int, "float": float, "str": str}
    declared = {f.name: str(f.type) for f in dataclasses.fields(TrainConfig)}
    for name, value in options.items():
        annotation = declared[name]  # e.g. "int | None" (the module postpones annotations)
        if value is None and "None" in annotation:
            continue
        kind = kinds.get(annotation.split()[0])
        if kind is not None:
            check_type(name, value, kind)


@one_command
def evaluate(
    run: str,
    data: Any,
    *,
    name: str | None = None,
    bins: int = 15,
    batch_size: int = 256,
    device: str = "auto",
    calibrate: Any = None,
) -> Any:
    """Predict ``data`` with a trained run and score it, as ``lsctl eval``.

    ``calibrate``: a labelled dev set (path or table) to fit a temperature on;
    the result's ``calibrated`` then holds the temperature-scaled predictions.
    ``data`` without a ``label`` column is predicted only: ``y`` is None and
    ``summary`` counts the predicted classes (``labelled``: False).

    Returns
    -------
    lsctl.evaluate.run.Evaluation
        ``table``: predictions (``id, label, pred, probs, logits``, a pyarrow
        Table); ``meta``: the metadata an ``eval -o`` file carries (system
        name, seed); ``summary``: accuracy, macro-F1, NLL, Brier, ECE and
        per-class scores; ``probs`` (N, K) and ``y`` (N,).

    Examples
    --------
    >>> import tempfile, lsctl, pandas as pd
    >>> rows = pd.DataFrame({"text": ["great fun", "dull plot"] * 16, "label": ["pos", "neg"] * 16})
    >>> tmp = tempfile.TemporaryDirectory()
    >>> result = lsctl.train(rows, f"{tmp.name}/run", dev=rows, model="fasttext", epochs=2)
    >>> ev = lsctl.evaluate(result, rows.iloc[:3], name="ce")
    >>> ev.probs.shape, ev.y.tolist(), ev.table.column_names
    ((3, 2), [1, 0, 1], ['id', 'label', 'pred', 'probs', 'logits'])
    """
    from lsctl.evaluate.run import evaluate as core

    if isinstance(getattr(run, "run", None), str):
        run = run.run  # a TrainResult: its run directory
    _check_path("run", run)
    if name is not None:
        check_type("name", name, str)
    check_range("bins", bins, low=1, whole=True)
    check_range("batch_size", batch_size, low=1, whole=True)
    with tempfile.TemporaryDirectory(prefix="lsctl-api-") as tmp:
        dev = None if calibrate is None else _as_path(calibrate, tmp, "dev", "calibrate")
        ev = core(
            os.fspath(run),
            _as_path(data, tmp, "data", "data"),
            name,
            bins,
            batch_size,
            device,
            calibrate=dev,
        )
        # The temporary files are gone once this returns: the records name the
        # arguments the tables came as ("data (a table)"), beside their hashes.
        ev.meta = named_tables(ev.meta)
        if ev.calibrated is not None:
            ev.calibrated.meta = named_tables(ev.calibrated.meta)
            ev.calibrated.summary = named_tables(ev.calibrated.summary)
        return ev


def prediction_path(p: Any, folder: str, name: str, argument: str) -> str:
    """A predictions file for ``p``: a path as it is, an :func:`evaluate` result or a table
    written to ``folder/name.parquet`` (errors about it name ``argument``)."""
    if hasattr(p, "meta") and hasattr(p, "table"):  # an Evaluation
        from lsctl.artifacts import write_artifact

        path = table_file(os.path.join(folder, f"{name}.parquet"), argument)
        write_artifact(p.table, path, p.meta)
        return path
    return _as_path(p, folder, name, argument)


def _artifact_name(path: str) -> str | None:
    """The system name in the lsctl metadata of the Parquet file ``path``, if any."""
    import pyarrow.parquet as pq

    from lsctl.artifacts.meta import decode_meta

    return (decode_meta(pq.read_schema(path).metadata, path) or {}).get("name")


def _named_predictions(preds: Any) -> list[tuple[Any, str, str | None]]:
    """(prediction, its argument's name for errors, its system name or None) per prediction."""
    if isinstance(preds, (list, tuple)):
        return [(p, f"preds[{i}]", None) for i, p in enumerate(preds)]
    if not isinstance(preds, dict):
        raise ParameterError(
            "{preds:n} is a list of predictions (paths, tables or Evaluations), or a dict "
            "of system name → predictions, not " + type(preds).__name__,
            preds=None,
        )
    items = []
    for system, given in preds.items():
        if not isinstance(system, str) or not system.strip():
            raise ParameterError(
                f"{{preds:n}} has the key {system!r}; system names are non-empty strings",
                preds=None,
            )
        seeds = given if isinstance(given, (list, tuple)) else [given]
        if not seeds:
            raise ParameterError(
                f"{{preds:n}}[{system!r}] is empty; give it at least one prediction", preds=None
            )
        for j, p in enumerate(seeds):
            where = f"preds[{system!r}]" + (f"[{j}]" if len(seeds) > 1 else "")
            items.append((p, where, system))
    return items


@dataclass
class Comparison:
    """The result of :func:`compare`: one row per (system, baseline) pair.

    ``rows``: dicts with keys ``system, baseline, metric, mean, baseline_mean,
    delta, ci_low, ci_high, p_bootstrap, p_ttest, p_wilcoxon, p_mcnemar,
    p_adjusted, verdict``; ``labels``; ``n``: test instances; ``systems``:
    name → seeds.
    """

    rows: list[dict[str, Any]]
    labels: list[str]
    n: int
    systems: dict[str, list[int | None]]

    @property
    def table(self) -> pa.Table:
        from lsctl.stats.compare import rows_table

        return rows_table(self.rows)

    def to_pandas(self) -> Any:
        return self.table.to_pandas()


@one_command
def compare(
    preds: list[Any] | dict[str, Any],
    *,
    baseline: str | None = None,
    metric: str = "accuracy",
    rounds: int = 10_000,
    seed: int = 0,
    ci: float = 0.95,
    mcnemar: str = "exact",
    alpha: float = 0.05,
    bins: int = 15,
    labels: list[str] | None = None,
    names: dict[str, str] | None = None,
) -> Comparison:
    """Compare systems' predictions on one test set, as ``lsctl compare``.

    Parameters
    ----------
    preds : list or dict
        Prediction files (paths), :func:`evaluate` results, or tables with
        ``id, label, probs``. Files with the same system name (``name`` of
        :func:`evaluate`) and different seeds form one system; a table
        without one is the system ``preds[i]``. A dict names
        the systems itself: system name → one prediction or a list of them
        (its seeds; those without a seed of their own count as seeds 1, 2, …
        in list order, so they pair up with another system's).
    baseline : str, optional
        The system every other is compared with; default: all pairs.
    metric : str
        ``accuracy``, ``macro_f1``, ``nll`` or ``ece``.
    rounds, seed, ci : paired bootstrap rounds, its seed, the CI level.
    mcnemar : {"exact", "chi2"}
    alpha : float
        Level of the Holm-adjusted verdicts.
    labels : list of str, optional
        Label order of ``probs`` for files without lsctl metadata.
    names : dict, optional
        Glob pattern → system name, overriding the files' own names.

    Returns
    -------
    Comparison

    Examples
    --------
    Two systems on four test instances; ``b`` errs on the two that ``a``
    gets right, so Δ accuracy = 0.5 − 1.0, and McNemar's exact p over the
    two discordant pairs is 2 · 0.5² = 0.5:

    >>> import lsctl, pandas as pd
    >>> gold = ["neg", "pos", "neg", "pos"]
    >>> a = pd.DataFrame({"id": range(4), "label": gold,
    ...                   "probs": [[.9, .1], [.2, .8], [.7, .3], [.4, .6]]})
    >>> b = a.assign(probs=[[.9, .1], [.2, .8], [.3, .7], [.6, .4]])
    >>> result = lsctl.compare({"a": a, "b": b}, baseline="a", labels=["neg", "pos"])
    >>> row = result.rows[0]
    >>> row["system"], row["baseline"], row["delta"], row["p_mcnemar"]
    ('b', 'a', -0.5, 0.5)
    >>> result.systems
    {'a': [1], 'b': [1]}
    """
    from lsctl.stats.compare import CompareOptions, compare_files

    items = _named_predictions(preds)
    check_range("rounds", rounds, low=1, whole=True)
    check_range("bins", bins, low=1, whole=True)
    if labels is not None:
        check_sequence("labels", labels, "the label order of probs")
        labels = [str(v) for v in labels]
    opts = CompareOptions(metric, baseline, rounds, seed, ci, mcnemar, alpha, bins)
    if names is not None and not isinstance(names, dict):
        raise ParameterError(
            f"{{names:n}} is a dict of glob pattern → system name, not {type(names).__name__}",
            names=None,
        )
    if names is not None and isinstance(preds, dict):
        raise ParameterError(
            "{names:n} renames files in a list of {preds:n}; a dict of {preds:n} names its "
            "systems by its keys already",
            names=None,
            preds=None,
        )
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="lsctl-api-"))
        paths = []
        for i, (p, argument, system) in enumerate(items):
            path = prediction_path(p, tmp, f"preds{i}", argument)
            if system is None and not isinstance(p, (str, os.PathLike)) and not hasattr(p, "meta"):
                # A table without a system name of its own is named by its
                # argument, not by its temporary file ("preds0").
                system = None if _artifact_name(path) else argument
            paths.append(path)
            if system is not None:
                names = {**(names or {}), glob.escape(path): system}
        test, systems, rows = compare_files(paths, None, opts, labels=labels, names=names)
    return Comparison(
        rows, list(test.labels), len(test.ids), {s.name: [p.seed for p in s.seeds] for s in systems}
    )
