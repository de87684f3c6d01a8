"""The critical-difference diagram draws what the ranks say: read back from the figure."""

from __future__ import annotations

import pytest

from lsctl.evaluate.cd_diagram import cd_diagram, draw_cd_diagram, figure_size


def _by_gid(fig):
    return {ln.get_gid(): ln for ln in fig.axes[0].get_lines() if ln.get_gid()}


def test_ranks_cd_and_groups_are_where_the_numbers_put_them():
    # Demšar's example: average ranks of four classifiers on 14 datasets, CD 1.25.
    ranks = [3.143, 2.000, 2.893, 1.964]
    names = ["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"]
    groups = [["C4.5+m+cf", "C4.5+m", "C4.5+cf"], ["C4.5+cf", "C4.5"]]
    fig = draw_cd_diagram(ranks, names, 1.25, groups, "t")
    try:
        lines = _by_gid(fig)
        # The CD scale bar starts at rank 1 and is CD long.
        assert list(lines["cd"].get_xdata()) == pytest.approx([1.0, 2.25])
        # Each system's leader line leaves the axis at its average rank.
        for i, r in enumerate(ranks):
            assert lines[f"system-{i}"].get_xdata()[0] == pytest.approx(r)
        # Best half to the left of the axis, the rest to the right.
        ends = {names[i]: lines[f"system-{i}"].get_xdata()[-1] for i in range(4)}
        assert ends["C4.5+m+cf"] < 1 and ends["C4.5+m"] < 1
        assert ends["C4.5"] > 4 and ends["C4.5+cf"] > 4
        # Group bars span their members' ranks (with a small overhang).
        for g, members in enumerate(groups):
            xs = lines[f"group-{g}"].get_xdata()
            lo = min(ranks[names.index(m)] for m in members)
            hi = max(ranks[names.index(m)] for m in members)
            assert xs[0] == pytest.approx(lo - 0.03) and xs[1] == pytest.approx(hi + 0.03)
        assert "group-2" not in lines
        w, h = figure_size(4, 2)
        assert tuple(fig.get_size_inches()) == pytest.approx((w, h))
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


@pytest.mark.parametrize("ext", [".svg", ".pdf"])
def test_written_by_extension(tmp_path, ext):
    out = tmp_path / f"cd{ext}"
    cd_diagram([1.5, 1.5], ["a", "b"], 1.0, [["a", "b"]], str(out))
    data = out.read_bytes()
    if ext == ".svg":
        # The ids survive into the SVG: the bar of the one group is there.
        assert b"<svg" in data and b'id="group-0"' in data and b'id="cd"' in data
    else:
        assert data.startswith(b"%PDF")
