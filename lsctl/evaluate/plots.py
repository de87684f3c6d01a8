"""Plots with matplotlib's Agg backend, imported only when a plot is asked for.

The format follows the file's extension: PNG, PDF or SVG.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from lsctl.errors import LsctlError, UsageError
from lsctl.evaluate.metrics import Reliability

FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


def plot_format(path: str) -> str:
    """'png', 'pdf' or 'svg' from the extension; anything else is an error."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        # A usage error (exit 2), like any option value that cannot work.
        raise UsageError(
            f"{path}: unknown plot extension {ext or '(none)'!r}; use .png, .pdf or .svg"
        )
    return FORMATS[ext]


def check_plot_path(path: str) -> None:
    """Fail before any work when the plot cannot be written."""
    from lsctl.artifacts.io import missing_dirs, refuse_directory

    plot_format(path)
    refuse_directory(path)
    parent = os.path.dirname(os.path.abspath(path))
    missing_dirs(parent)
    if os.path.isdir(parent) and not os.access(parent, os.W_OK):
        raise LsctlError(f"{path}: cannot write in {parent}; give another --plot path")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str) -> None:
    # The artifacts' atomic writer: never half a plot behind, the umask's mode.
    from lsctl.artifacts.io import atomic_path

    fmt = plot_format(path)
    with atomic_path(path, suffix=f".{fmt}") as tmp:
        fig.savefig(tmp, dpi=120, format=fmt)


def reliability_diagram(rel: Reliability, path: str, title: str = "") -> None:
    """Accuracy vs confidence per bin (with the gap to the diagonal) above a confidence histogram."""
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    try:
        lo, width = rel.edges[:-1], np.diff(rel.edges)
        acc = np.nan_to_num(rel.accuracy)
        conf = np.nan_to_num(rel.confidence)
        has = rel.count > 0
        top.bar(lo, acc, width=width, align="edge", edgecolor="black", label="accuracy")
        # Hatched outline from accuracy to mean confidence: above the bar means
        # over-confident, inside it under-confident.
        top.bar(
            lo[has],
            (conf - acc)[has],
            bottom=acc[has],
            width=width[has],
            align="edge",
            fill=False,
            hatch="//",
            edgecolor="red",
            label="gap to confidence",
        )
        top.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
        top.set_ylabel("accuracy")
        top.set_ylim(0, 1)
        top.legend(loc="upper left", fontsize=8)
        n, bins = int(np.sum(rel.count)), len(rel.count)
        # Two lines: a long system name would push the numbers out of the figure.
        stats = f"n={n:,}, {bins} bins ({rel.scheme}), ECE={rel.ece:.4f}"
        top.set_title(f"{title}\n{stats}" if title else stats, fontsize=10)
        bottom.bar(lo, rel.count, width=width, align="edge", edgecolor="black", color="gray")
        bottom.set_xlabel("confidence (top-label probability)")
        bottom.set_ylabel("count")
        bottom.set_xlim(0, 1)
        fig.tight_layout()
        _save(fig, path)
    finally:
        plt.close(fig)


FOREST_STYLES = {
    "better": ("tab:green", "better (Holm-adjusted)"),
    "worse": ("tab:red", "worse (Holm-adjusted)"),
    "ci-better": ("yellowgreen", "CI excludes 0, better; not after Holm"),
    "ci-worse": ("tab:orange", "CI excludes 0, worse; not after Holm"),
    "none": ("tab:gray", "no difference (CI covers 0)"),
}


def forest_category(row: dict[str, Any], metric: str) -> str:
    """Key of ``FOREST_STYLES`` for one comparison row.

    The verdict (Holm-adjusted) decides first; a CI that excludes 0 without a
    Holm-significant verdict still gets its direction's colour, never grey.
    """
    if row["verdict"] in ("better", "worse"):
        return str(row["verdict"])
    lo, hi = row["ci_low"], row["ci_high"]
    if lo > 0 or hi < 0:
        up = lo > 0
        better = not up if metric in ("nll", "ece") else up
        return "ci-better" if better else "ci-worse"
    return "none"


def forest_plot(rows: list[dict[str, Any]], path: str, metric: str, ci: float) -> None:
    """Δ (system − baseline) with its bootstrap CI, one line per comparison, with a legend."""
    plt = _pyplot()
    n = len(rows)
    fig, ax = plt.subplots(figsize=(7, 1.6 + 0.45 * n))
    try:
        ys = np.arange(n)[::-1]
        used: list[str] = []
        for y, row in zip(ys, rows, strict=True):
            cat = forest_category(row, metric)
            c, label = FOREST_STYLES[cat]
            first = cat not in used
            if first:
                used.append(cat)
            ax.plot(
                [row["ci_low"], row["ci_high"]],
                [y, y],
                color=c,
                linewidth=2,
                label=label if first else None,
            )
            ax.plot([row["delta"]], [y], "o", color=c)
        ax.axvline(0, color="black", linestyle="--", linewidth=1)
        ax.set_yticks(ys)
        ax.set_yticklabels([f"{r['system']} vs {r['baseline']}" for r in rows])
        ax.set_ylim(-0.8, n - 0.2 + 0.6 * len(used))
        ax.legend(loc="upper right", fontsize=8)
        lower = metric in ("nll", "ece")
        ax.set_xlabel(
            f"Δ {metric} (system − baseline), {ci:.0%} CI; "
            + ("lower is better" if lower else "higher is better")
        )
        fig.tight_layout()
        _save(fig, path)
    finally:
        plt.close(fig)
