"""Training curves: per-epoch dev accuracy and losses of runs, one line per system.

A *system* is a set of run directories that differ only in their seed: equal
``config.json`` options once ``seed``, ``output`` and the options that do not
change what is learned (``device``, ``threads``, ``cache``) are left out. Its
name is the run folder's name without a trailing seed marker (``kwls-s1`` and
``kwls_seed2`` are ``kwls``), unless the caller names the group.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lsctl.errors import LsctlError

# Run options that differ between seeds of one system without changing it.
NOT_SYSTEM = frozenset({"seed", "output", "device", "threads", "cache"})
# What the panels show: metrics.parquet column -> axis label.
PANELS = (
    ("dev_accuracy", "dev accuracy"),
    ("dev_nll", "dev loss (NLL)"),
    ("train_loss", "training loss"),
)
BANDS = ("minmax", "sd")


@dataclass
class Run:
    """One run directory's per-epoch metrics and what the plot marks on it."""

    path: str
    seed: int | None
    options: dict[str, Any]
    epochs: np.ndarray  # (E,) int
    values: dict[str, np.ndarray]  # column -> (E,) float, NaN where missing
    selected: int | None
    warmup_epochs: int


@dataclass
class SystemCurves:
    name: str
    runs: list[Run] = field(default_factory=list)


def read_run(path: str) -> Run:
    """Read ``config.json`` and ``metrics.parquet`` of one run directory."""
    from lsctl.artifacts import read_artifact
    from lsctl.train import run_dir as rd

    if not os.path.isdir(path):
        raise LsctlError(f"{path}: not a run directory (give folders written by `lsctl train -o`)")
    config = rd.read_config(path)
    metrics = os.path.join(path, rd.METRICS)
    if not os.path.exists(metrics):
        raise LsctlError(f"{path}: no {rd.METRICS}; the run has not finished an epoch yet")
    table, _ = read_artifact(metrics)
    missing = [c for c in ("epoch", *(c for c, _ in PANELS)) if c not in table.column_names]
    if missing:
        raise LsctlError(f"{metrics}: no column {missing[0]!r}; is this a `lsctl train` run?")
    epochs = np.asarray(table.column("epoch").to_pylist(), dtype=np.int64)
    values = {
        c: np.array([np.nan if v is None else v for v in table.column(c).to_pylist()], float)
        for c, _ in PANELS
    }
    options = dict(config.get("options") or {})
    selected = config.get("selected_epoch")
    if selected is None and "selected" in table.column_names:
        flags = table.column("selected").to_pylist()
        selected = next((int(e) for e, f in zip(epochs, flags, strict=True) if f), None)
    warmup = options.get("warmup_epochs")
    if warmup is None and "phase" in table.column_names:
        warmup = sum(1 for p in table.column("phase").to_pylist() if p == "warmup")
    seed = config.get("seed", options.get("seed"))
    return Run(
        path=path,
        seed=int(seed) if seed is not None else None,
        options=options,
        epochs=epochs,
        values=values,
        selected=int(selected) if selected is not None else None,
        warmup_epochs=int(warmup or 0),
    )


def _system_key(run: Run) -> str:
    import json

    return json.dumps(
        {k: v for k, v in sorted(run.options.items()) if k not in NOT_SYSTEM}, default=str
    )


def default_name(run: Run) -> str:
    """The run folder's name without a trailing seed marker (:func:`lsctl.evaluate.naming.system_name`)."""
    from lsctl.evaluate.naming import system_name

    return system_name(run.path, run.seed)


def group_runs(
    runs: Sequence[Run], named: dict[str, Sequence[Run]] | None = None
) -> list[SystemCurves]:
    """Systems from runs: ``named`` groups as given, the rest by equal options but the seed.

    Parameters
    ----------
    runs : sequence of Run
        Runs to group by the rule in the module docstring.
    named : dict of str to sequence of Run, optional
        Groups the caller named (``--label NAME=RUN,RUN``), listed first.

    Returns
    -------
    list of SystemCurves
        In the order their first run was given. Runs of one folder name but other
        options are told apart by those options (``ce (epochs=3)``); names still
        alike get ``#2``, ``#3``.
    """
    out = [SystemCurves(n, list(rs)) for n, rs in (named or {}).items()]
    by_key: dict[str, SystemCurves] = {}
    for run in runs:
        key = _system_key(run)
        if key not in by_key:
            by_key[key] = SystemCurves(default_name(run))
            out.append(by_key[key])
        by_key[key].runs.append(run)
    _name_by_difference([s for s in out if s not in out[: len(named or {})]])
    seen: dict[str, int] = {}
    for s in out:
        n = seen.get(s.name, 0) + 1
        seen[s.name] = n
        if n > 1:
            s.name = f"{s.name}#{n}"
    return out


def _name_by_difference(systems: list[SystemCurves]) -> None:
    """Systems of one folder name but other options get the options that set them apart.

    ``runs/ce-s1`` resumed to more epochs beside ``runs/ce-s2``: ``ce (epochs=3)``
    and ``ce (epochs=2)``, where ``#2`` would say nothing of what differs.
    """
    by_name: dict[str, list[SystemCurves]] = {}
    for s in systems:
        by_name.setdefault(s.name, []).append(s)
    for name, same in by_name.items():
        if len(same) < 2:
            continue
        opts = [{k: v for k, v in s.runs[0].options.items() if k not in NOT_SYSTEM} for s in same]
        keys = sorted({k for o in opts for k in o})
        differ = [k for k in keys if len({str(o.get(k)) for o in opts}) > 1][:2]
        for s, o in zip(same, opts, strict=True):
            if differ:
                s.name = f"{name} ({', '.join(f'{k}={o.get(k)}' for k in differ)})"


def band(values: np.ndarray, how: str = "minmax") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and band per epoch over seeds, ignoring missing (NaN) entries.

    Parameters
    ----------
    values : ndarray, shape (n_seeds, n_epochs)
        NaN where a seed has no such epoch (it stopped early).
    how : {'minmax', 'sd'}
        Band from the smallest to the largest seed, or mean ± the sample
        standard deviation (ddof=1; zero width for a single seed).

    Returns
    -------
    mean, low, high : ndarray, shape (n_epochs,)
        NaN for an epoch no seed reached.

    Examples
    --------
    >>> m, lo, hi = band(np.array([[1.0, 2.0], [3.0, np.nan]]))
    >>> m.tolist(), lo.tolist(), hi.tolist()
    ([2.0, 2.0], [1.0, 2.0], [3.0, 2.0])
    """
    v = np.asarray(values, dtype=np.float64)
    if how not in BANDS:
        raise ValueError(f"band {how!r}: use minmax or sd")
    n_epochs = v.shape[1]
    mean, lo, hi = (np.full(n_epochs, np.nan) for _ in range(3))
    for e in range(n_epochs):
        col = v[:, e][~np.isnan(v[:, e])]
        if len(col) == 0:
            continue
        mean[e] = col.mean()
        if how == "minmax":
            lo[e], hi[e] = col.min(), col.max()
        else:
            sd = col.std(ddof=1) if len(col) > 1 else 0.0
            lo[e], hi[e] = mean[e] - sd, mean[e] + sd
    return mean, lo, hi


def stack(runs: Sequence[Run], column: str) -> tuple[np.ndarray, np.ndarray]:
    """Epochs 1..max and the (n_runs, n_epochs) matrix of ``column``, NaN where missing."""
    last = max(int(r.epochs.max()) for r in runs if len(r.epochs))
    epochs = np.arange(1, last + 1)
    out = np.full((len(runs), last), np.nan)
    for i, r in enumerate(runs):
        out[i, r.epochs - 1] = r.values[column]
    return epochs, out


def draw_curves(systems: Sequence[SystemCurves], how: str = "minmax", title: str = "") -> Any:
    """The figure: one panel per ``PANELS`` entry, a mean line and band per system.

    Each run's selected epoch is a star at its own value; the CE warm-up
    epochs are shaded grey. The caller saves and closes the figure
    (``save_curves`` does both).
    """
    from lsctl.evaluate.plots import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.6))
    try:
        _draw(fig, axes, systems, how, title)
    except BaseException:
        plt.close(fig)
        raise
    return fig


def _draw(fig: Any, axes: Any, systems: Sequence[SystemCurves], how: str, title: str) -> None:
    from lsctl.evaluate.plots import _pyplot

    plt = _pyplot()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    warmups = sorted({r.warmup_epochs for s in systems for r in s.runs if r.warmup_epochs > 0})
    for ax, (column, label) in zip(axes, PANELS, strict=True):
        for w in warmups:
            ax.axvspan(0.5, w + 0.5, color="grey", alpha=0.12, linewidth=0)
            ax.axvline(w + 0.5, color="grey", linestyle=":", linewidth=1)
        for n, s in enumerate(systems):
            c = colors[n % len(colors)]
            epochs, v = stack(s.runs, column)
            mean, lo, hi = band(v, how)
            ax.plot(
                epochs, mean, color=c, marker="o", markersize=3, label=f"{s.name} (×{len(s.runs)})"
            )
            if len(s.runs) > 1:
                ax.fill_between(epochs, lo, hi, color=c, alpha=0.2, linewidth=0)
            sel = [(r.selected, r.values[column][r.epochs == r.selected]) for r in s.runs]
            xs = [e for e, y in sel if e is not None and len(y)]
            ys = [float(y[0]) for e, y in sel if e is not None and len(y)]
            if xs:
                ax.plot(
                    xs,
                    ys,
                    linestyle="none",
                    marker="*",
                    markersize=11,
                    color=c,
                    markeredgecolor="black",
                    markeredgewidth=0.6,
                )
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles.append(
        Line2D(
            [],
            [],
            linestyle="none",
            marker="*",
            markersize=11,
            color="white",
            markeredgecolor="black",
        )
    )
    labels.append("selected epoch")
    if warmups:
        handles.append(Patch(color="grey", alpha=0.12))
        many = len(warmups) > 1 or warmups[0] > 1
        labels.append(
            "CE warm-up ("
            + ", ".join(str(w) for w in warmups)
            + (" epochs)" if many else " epoch)")
        )
    axes[0].legend(handles, labels, fontsize=8, loc="best")
    band_text = "min–max over seeds" if how == "minmax" else "mean ± sd over seeds"
    fig.suptitle((f"{title} — " if title else "") + f"band: {band_text}", fontsize=10)
    fig.tight_layout()


def save_curves(
    systems: Sequence[SystemCurves], path: str, how: str = "minmax", title: str = ""
) -> None:
    """Draw and write the curves; the format follows the extension (.png, .pdf, .svg)."""
    from lsctl.evaluate.plots import _pyplot, _save, plot_format

    plot_format(path)
    fig = draw_curves(systems, how, title)
    try:
        _save(fig, path)
    finally:
        _pyplot().close(fig)
