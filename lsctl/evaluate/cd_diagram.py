"""Critical-difference diagram (Demšar 2006, Fig. 1), written by extension: PNG, PDF or SVG."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from lsctl.evaluate.plots import _pyplot, _save, plot_format

WIDTH_IN = 7.0
DPI = 120  # lsctl.evaluate.plots._save's


INCH_PER_UNIT = 0.5  # vertical inches per unit of the drawing's y coordinate
AXIS_Y = 1.2
ROW = 0.55  # between label rows
BAR = 0.12  # between stacked group bars


def _label_start(n_groups: int) -> float:
    return AXIS_Y + 0.45 + BAR * n_groups


def _bottom(n_systems: int, n_groups: int) -> float:
    return _label_start(n_groups) + ROW * math.ceil(n_systems / 2)


def figure_size(n_systems: int, n_groups: int) -> tuple[float, float]:
    """Width and height in inches: room for the group bars, then one label row per
    system on the longer side (best half left, worst half right)."""
    return WIDTH_IN, round(INCH_PER_UNIT * _bottom(n_systems, n_groups), 2)


def cd_diagram(
    avg_ranks: Sequence[float],
    systems: Sequence[str],
    cd: float,
    groups: Sequence[Sequence[str]],
    path: str,
    title: str = "",
) -> None:
    """Write the diagram of ``draw_cd_diagram`` to ``path`` (.png, .pdf or .svg)."""
    plot_format(path)
    plt = _pyplot()
    fig = draw_cd_diagram(avg_ranks, systems, cd, groups, title)
    try:
        _save(fig, path)
    finally:
        plt.close(fig)


def draw_cd_diagram(
    avg_ranks: Sequence[float],
    systems: Sequence[str],
    cd: float,
    groups: Sequence[Sequence[str]],
    title: str = "",
) -> Any:
    """Draw the average ranks on an axis, the CD, and bars over non-different groups.

    Parameters
    ----------
    avg_ranks : sequence of float, length n_systems
        Average rank of each system (1 = best, drawn on the left).
    systems : sequence of str, length n_systems
    cd : float
        Nemenyi critical difference, drawn as a scale bar above the axis.
    groups : sequence of sequence of str
        Systems not significantly different (``lsctl.stats.rank.cd_groups``);
        each becomes a thick bar joining them.
    title : str
        Drawn above the axis.

    Returns
    -------
    matplotlib.figure.Figure
        One axes in data coordinates: x is the average rank, y grows downwards.
        The lines have ids (``gid``, kept as ``id`` in SVG): ``cd`` the scale bar,
        ``system-I`` the leader line of system I (from its rank on the axis),
        ``group-G`` the bar of ``groups[G]``. The caller closes the figure.
    """
    plt = _pyplot()
    k = len(systems)
    order = sorted(range(k), key=lambda i: (avg_ranks[i], i))
    width, height = figure_size(k, len(groups))
    fig = plt.figure(figsize=(width, height))
    try:
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        # Data coordinates: x in rank units with margins for the labels, y downwards.
        lo, hi = 1.0, float(max(k, 2))
        margin = (hi - lo) * 0.45 + 0.5
        ax.set_xlim(lo - margin, hi + margin)
        ax.set_ylim(_bottom(k, len(groups)), 0.0)
        axis_y = AXIS_Y
        ax.plot([lo, hi], [axis_y, axis_y], color="black", linewidth=1.2)
        for t in range(1, int(hi) + 1):
            ax.plot([t, t], [axis_y, axis_y - 0.12], color="black", linewidth=1)
            ax.text(t, axis_y - 0.18, str(t), ha="center", va="bottom", fontsize=9)
        for t in range(1, int(hi)):
            ax.plot([t + 0.5, t + 0.5], [axis_y, axis_y - 0.06], color="black", linewidth=0.8)
        # The CD as a scale bar above the axis, from rank 1.
        cd_y = 0.65
        ax.plot([lo, lo + cd], [cd_y, cd_y], color="black", linewidth=1.5, gid="cd")
        for x in (lo, lo + cd):
            ax.plot([x, x], [cd_y - 0.06, cd_y + 0.06], color="black", linewidth=1.5)
        ax.text(lo + cd / 2, cd_y - 0.08, f"CD = {cd:.3f}", ha="center", va="bottom", fontsize=9)
        if title:
            ax.text((lo + hi) / 2, 0.08, title, ha="center", va="top", fontsize=9)

        # Best half on the left, worst half on the right, each label on its own row.
        left = order[: (k + 1) // 2]
        right = order[(k + 1) // 2 :][::-1]
        for side, members in (("left", left), ("right", right)):
            for row, i in enumerate(members):
                r = float(avg_ranks[i])
                y = _label_start(len(groups)) + ROW * (row + 0.5)
                x_end = lo - margin * 0.15 if side == "left" else hi + margin * 0.15
                ax.plot(
                    [r, r, x_end], [axis_y, y, y], color="black", linewidth=1, gid=f"system-{i}"
                )
                ax.text(
                    x_end + (-0.05 if side == "left" else 0.05),
                    y,
                    f"{systems[i]} ({r:.2f})",
                    ha="right" if side == "left" else "left",
                    va="center",
                    fontsize=9,
                )
        # Group bars just under the axis, stacked when they overlap.
        pos = {name: float(avg_ranks[i]) for i, name in enumerate(systems)}
        for g, members in enumerate(groups):
            xs = [pos[m] for m in members]
            y = axis_y + 0.25 + BAR * g
            ax.plot(
                [min(xs) - 0.03, max(xs) + 0.03],
                [y, y],
                color="black",
                linewidth=3.5,
                solid_capstyle="butt",
                gid=f"group-{g}",
            )
    except BaseException:
        plt.close(fig)
        raise
    return fig
