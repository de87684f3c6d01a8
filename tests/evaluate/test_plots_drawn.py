"""The plots are not blank: read the PNG back and find the data's marks in its pixels.

Reliability diagram: the accuracy bars (matplotlib's default blue) and the
count histogram (grey) have pixel heights proportional to the per-bin
accuracies and counts. Forest plot: each comparison's CI line and Δ marker lie
where a single linear data→pixel map puts them, in row order.
"""

from __future__ import annotations

import numpy as np
import pytest

from lsctl.evaluate.metrics import Reliability

BLUE = (31, 119, 180)  # tab:blue, the bars' default colour
GREY = (128, 128, 128)  # "gray", the histogram
GREEN = (44, 160, 44)  # tab:green, better
RED = (214, 39, 40)  # tab:red, worse


def _read(path) -> np.ndarray:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    img = plt.imread(str(path))
    assert img.ndim == 3 and img.shape[2] in (3, 4)
    return img[:, :, :3]


def _mask(img: np.ndarray, rgb: tuple[int, int, int], tol: float = 0.06) -> np.ndarray:
    return (np.abs(img - np.array(rgb) / 255.0) < tol).all(axis=2)


def _longest_run(column: np.ndarray) -> tuple[int, int]:
    """(first, last) index of the longest run of True in a 1-D mask."""
    best, start, run = (0, -1), None, 0
    for i, v in enumerate(column):
        if v:
            start = i if start is None else start
            if i - start + 1 > run:
                run, best = i - start + 1, (start, i)
        else:
            start = None
    return best


def _bar_heights(mask: np.ndarray, bins: int, span: tuple[int, int]) -> list[int]:
    """Pixel height of the bar at each bin centre; ``span``: the columns of confidence 0 and 1."""
    left, right = span
    heights = []
    for b in range(bins):
        x = round(left + (b + 0.5) / bins * (right - left))
        top, bottom = _longest_run(mask[:, x])
        heights.append(bottom - top + 1)
    return heights


def test_reliability_diagram_bars_follow_the_data(tmp_path):
    from lsctl.evaluate.plots import reliability_diagram

    bins = 5
    # Accuracies below the diagonal at each bin centre (so the dashed line never
    # crosses a bar there) and below the legend; all different, in no order.
    acc = np.array([0.08, 0.25, 0.15, 0.45, 0.35])
    conf = np.array([0.12, 0.3, 0.5, 0.68, 0.9])
    count = np.array([10, 40, 25, 60, 30])
    rel = Reliability(np.linspace(0, 1, bins + 1), count, conf, acc, 0.2)
    png = tmp_path / "rel.png"
    reliability_diagram(rel, str(png), "sys")
    img = _read(png)

    blue = _mask(img, BLUE)
    # The accuracy bars cover confidence 0 to 1; both panels share that x axis.
    cols = np.flatnonzero(blue.any(axis=0))
    span = (int(cols.min()), int(cols.max()))
    h_acc = _bar_heights(blue, bins, span)
    assert np.argsort(h_acc).tolist() == np.argsort(acc).tolist(), h_acc
    # Heights in pixels are proportional to the accuracies (to a pixel or two of edge).
    scale = h_acc[3] / acc[3]
    assert np.allclose(h_acc, scale * acc, atol=3), (h_acc, scale * acc)

    # The histogram lies below the accuracy panel.
    below = np.zeros_like(blue)
    below[np.flatnonzero(blue.any(axis=1)).max() + 1 :] = True
    grey = _mask(img, GREY, tol=0.03) & below
    h_count = _bar_heights(grey, bins, span)
    scale = h_count[3] / count[3]
    assert np.allclose(h_count, scale * count, atol=3), (h_count, scale * count)


def _lines(mask: np.ndarray, min_len: int) -> list[tuple[int, int, int, int]]:
    """Horizontal lines of a colour: (first row, last row, min x, max x), top to bottom."""
    rows = np.flatnonzero(mask.sum(axis=1) >= min_len)
    out = []
    for group in np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1):
        if len(group):
            xs = np.flatnonzero(mask[group].any(axis=0))
            out.append((int(group[0]), int(group[-1]), int(xs.min()), int(xs.max())))
    return out


def test_forest_plot_draws_each_ci_and_delta_where_the_data_says(tmp_path):
    from lsctl.evaluate.plots import forest_plot

    rows = [
        {"system": "a", "baseline": "base", "delta": 0.03, "ci_low": 0.01, "ci_high": 0.05},
        {"system": "b", "baseline": "base", "delta": -0.04, "ci_low": -0.06, "ci_high": -0.02},
        {"system": "c", "baseline": "base", "delta": 0.05, "ci_low": 0.03, "ci_high": 0.07},
    ]
    for r, v in zip(rows, ["better", "worse", "better"], strict=True):
        r["verdict"] = v
    png = tmp_path / "forest.png"
    forest_plot(rows, str(png), "accuracy", 0.95)
    img = _read(png)

    green = _mask(img, GREEN)
    red = _mask(img, RED)
    # Lines at least 60 px long: the CIs (≈ 30% of the axes each), not legend handles.
    g_lines = _lines(green, 60)
    r_lines = _lines(red, 60)
    assert len(g_lines) == 2 and len(r_lines) == 1, (g_lines, r_lines)
    # Rows top to bottom in the given order: a (green), b (red), c (green).
    placed = [(g_lines[0], rows[0]), (r_lines[0], rows[1]), (g_lines[1], rows[2])]
    assert g_lines[0][0] < r_lines[0][0] < g_lines[1][0]

    # One linear map from Δ to pixel x fits every CI end.
    data = [v for _, r in placed for v in (r["ci_low"], r["ci_high"])]
    px = [v for line, _ in placed for v in (line[2], line[3])]
    slope, intercept = np.polyfit(data, px, 1)
    assert slope > 0
    assert np.abs(np.polyval([slope, intercept], data) - px).max() < 4

    # Each Δ marker: its pixels just above the line are centred on the mapped Δ.
    for (top, _bottom, _x0, _x1), r in placed:
        mask = green if r["verdict"] == "better" else red
        band = mask[max(top - 4, 0) : top - 1]
        xs = np.flatnonzero(band.any(axis=0))
        assert len(xs) > 0, "no Δ marker above the CI line"
        assert xs.mean() == pytest.approx(np.polyval([slope, intercept], r["delta"]), abs=3)
