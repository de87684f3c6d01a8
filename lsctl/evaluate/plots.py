"""PNG plots with matplotlib's Agg backend, imported only when a plot is asked for."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from lsctl.errors import LsctlError
from lsctl.evaluate.metrics import Reliability


def check_plot_path(path: str) -> None:
    """Fail before any work when the plot cannot be written."""
    if not path.lower().endswith(".png"):
        raise LsctlError(f"{path}: plots are PNG files; use a name ending in .png")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise LsctlError(f"{path}: directory {directory} does not exist")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str) -> None:
    # Same atomic-write rule as artifacts: never leave half a PNG behind.
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".lsctl-", suffix=".png", dir=directory)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=120, format="png")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
        top.set_title(f"{title}  ECE={rel.ece:.4f}".strip())
        bottom.bar(lo, rel.count, width=width, align="edge", edgecolor="black", color="gray")
        bottom.set_xlabel("confidence (top-label probability)")
        bottom.set_ylabel("count")
        bottom.set_xlim(0, 1)
        fig.tight_layout()
        _save(fig, path)
    finally:
        plt.close(fig)


def forest_plot(rows: list[dict[str, Any]], path: str, metric: str, ci: float) -> None:
    """Δ (system − baseline) with its bootstrap CI, one line per comparison."""
    plt = _pyplot()
    n = len(rows)
    fig, ax = plt.subplots(figsize=(6, 1 + 0.45 * n))
    try:
        ys = np.arange(n)[::-1]
        colors = {"better": "tab:green", "worse": "tab:red"}
        for y, row in zip(ys, rows, strict=True):
            c = colors.get(row["verdict"], "tab:gray")
            ax.plot([row["ci_low"], row["ci_high"]], [y, y], color=c, linewidth=2)
            ax.plot([row["delta"]], [y], "o", color=c)
        ax.axvline(0, color="black", linestyle="--", linewidth=1)
        ax.set_yticks(ys)
        ax.set_yticklabels([f"{r['system']} vs {r['baseline']}" for r in rows])
        lower = metric in ("nll", "ece")
        ax.set_xlabel(
            f"Δ {metric} (system − baseline), {ci:.0%} CI; "
            + ("lower is better" if lower else "higher is better")
        )
        fig.tight_layout()
        _save(fig, path)
    finally:
        plt.close(fig)
