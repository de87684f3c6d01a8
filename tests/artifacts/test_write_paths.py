"""Output paths and file modes (issue 13, items 1, 7 and 10).

Every file lsctl writes goes through one atomic writer, which creates missing
parent folders, gives the file the mode a plain ``open()`` would, and removes
what it made when the write fails.
"""

from __future__ import annotations

import os
import stat

import numpy as np
import pyarrow as pa
import pytest

from lsctl.artifacts import make_meta, write_artifact
from lsctl.artifacts.io import atomic_path, check_output
from lsctl.errors import LsctlError


@pytest.fixture
def umask():
    """Set a umask for one test and restore the old one."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _plain_open_mode(directory) -> int:
    """The mode a plain open() gives a new file here: the reference, not a formula."""
    probe = os.path.join(directory, "probe.txt")
    with open(probe, "w"):
        pass
    mode = stat.S_IMODE(os.stat(probe).st_mode)
    os.unlink(probe)
    return mode


def _table():
    return pa.table({"text": ["a", "b"], "label": ["x", "y"]})


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
@pytest.mark.parametrize("name", ["out.parquet", "out.arrows"])
def test_artifact_mode_follows_the_umask(tmp_path, umask, mask, name):
    umask(mask)
    path = tmp_path / name
    write_artifact(_table(), str(path), make_meta("dataset", ["x", "y"]))
    assert stat.S_IMODE(path.stat().st_mode) == _plain_open_mode(tmp_path)


def test_missing_parent_folders_are_created(tmp_path):
    path = tmp_path / "a" / "b" / "out.parquet"
    assert check_output(str(path)) == "parquet"  # validation creates nothing yet
    assert not (tmp_path / "a").exists()
    write_artifact(_table(), str(path), make_meta("dataset", ["x", "y"]))
    assert path.is_file()


def test_failed_write_removes_the_folders_it_made(tmp_path):
    path = tmp_path / "a" / "b" / "out.parquet"
    with pytest.raises(RuntimeError), atomic_path(str(path)) as tmp:
        assert os.path.exists(tmp)
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_the_way_is_one_clear_error(tmp_path, cli):
    (tmp_path / "runs").write_text("not a folder")
    with pytest.raises(LsctlError, match="is a file, not a directory"):
        check_output(str(tmp_path / "runs" / "x.parquet"))
    data = tmp_path / "d.parquet"
    write_artifact(_table(), str(data), make_meta("dataset", ["x", "y"]))
    r = cli("data", "info", data)
    assert r.exit_code == 0
    r = cli("keywords", data, "-o", tmp_path / "runs" / "kw.parquet")
    assert r.exit_code == 1 and r.stderr.count("\n") == 1 and "not a directory" in r.stderr


def test_train_creates_parents_and_a_failed_train_leaves_nothing(cli, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
    from trainkit import write_dataset

    data = write_dataset(tmp_path / "train.parquet", n=60)
    tiny = ["--epochs", "1", "--embed-dim", "8", "--max-length", "16", "--device", "cpu", "-q"]
    # Fails after the run folder would have been made: soft loss on a plain dataset.
    r = cli("train", data, "-o", tmp_path / "runs" / "a" / "soft", "--loss", "soft", *tiny)
    assert r.exit_code == 1
    assert not (tmp_path / "runs").exists()
    r = cli("train", data, "-o", tmp_path / "runs" / "a" / "ce", *tiny)
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "runs" / "a" / "ce" / "model.safetensors").is_file()
    mode = _plain_open_mode(tmp_path)
    for name in ("model.safetensors", "metrics.parquet", "config.json"):
        assert stat.S_IMODE((tmp_path / "runs" / "a" / "ce" / name).stat().st_mode) == mode, name


# -- plots ------------------------------------------------------------------------

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF", "svg": b"<?xml"}


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg", "PNG"])
def test_plots_follow_the_extension(tmp_path, umask, fmt):
    from lsctl.evaluate.metrics import reliability
    from lsctl.evaluate.plots import reliability_diagram

    umask(0o027)
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), 200)
    y = rng.integers(0, 3, 200)
    path = tmp_path / "plots" / f"rel.{fmt}"
    reliability_diagram(reliability(probs, y, 10), str(path), "cnn")
    head = path.read_bytes()[:8]
    assert head.startswith(MAGIC[fmt.lower()])
    if fmt == "svg":
        assert b"<svg" in path.read_bytes()[:2000]
    assert stat.S_IMODE(path.stat().st_mode) == _plain_open_mode(tmp_path)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_unknown_plot_extension_is_refused_up_front(cli, tmp_path):
    from lsctl.evaluate.plots import check_plot_path

    with pytest.raises(LsctlError, match=r"use \.png, \.pdf or \.svg"):
        check_plot_path(str(tmp_path / "rel.jpg"))
    check_plot_path(str(tmp_path / "new" / "rel.svg"))  # a missing folder is fine
    assert not (tmp_path / "new").exists()


def _capture_figure(monkeypatch):
    """Keep the figure a plot function builds instead of writing it."""
    from lsctl.evaluate import plots

    seen = {}

    def fake_save(fig, path):
        seen["fig"] = fig
        # Read what we need before plots closes the figure.
        seen["axes"] = fig.axes
        seen["titles"] = [ax.get_title() for ax in fig.axes]
        seen["legends"] = [
            [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
            for ax in fig.axes
        ]
        seen["lines"] = [
            [(tuple(line.get_xdata()), line.get_color()) for line in ax.get_lines()]
            for ax in fig.axes
        ]

    monkeypatch.setattr(plots, "_save", fake_save)
    return seen


def test_reliability_title_gives_n_and_bins(monkeypatch):
    from lsctl.evaluate.metrics import reliability
    from lsctl.evaluate.plots import reliability_diagram

    seen = _capture_figure(monkeypatch)
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(4), 1234)
    y = rng.integers(0, 4, 1234)
    reliability_diagram(reliability(probs, y, 12), "x.png", "kwls")
    title = seen["titles"][0]
    assert "kwls" in title and "n=1,234" in title and "12 bins" in title


def _row(system, delta, lo, hi, verdict):
    return {
        "system": system,
        "baseline": "ce",
        "delta": delta,
        "ci_low": lo,
        "ci_high": hi,
        "verdict": verdict,
    }


def test_forest_colours_and_legend(monkeypatch):
    from matplotlib.colors import to_rgba

    from lsctl.evaluate.plots import forest_plot

    seen = _capture_figure(monkeypatch)
    rows = [
        _row("a", 0.02, 0.01, 0.03, "better"),
        _row("b", 0.01, 0.002, 0.02, "no difference"),  # CI excludes 0, not after Holm
        _row("c", -0.01, -0.02, -0.001, "no difference"),
        _row("d", 0.0, -0.01, 0.01, "no difference"),
        _row("e", -0.03, -0.04, -0.02, "worse"),
    ]
    forest_plot(rows, "x.png", "accuracy", 0.95)
    legend = seen["legends"][0]
    assert len(legend) == 5 and any("Holm" in t for t in legend)
    ci_lines = [(x, c) for x, c in seen["lines"][0] if len(x) == 2 and x[0] != x[1]]
    colour = {x: to_rgba(c) for x, c in ci_lines}
    grey = to_rgba("tab:gray")
    for r in rows:
        excludes_zero = r["ci_low"] > 0 or r["ci_high"] < 0
        c = colour[(r["ci_low"], r["ci_high"])]
        assert (c != grey) if excludes_zero else (c == grey), r["system"]
    assert len({colour[(r["ci_low"], r["ci_high"])] for r in rows}) == 5


def test_forest_direction_for_lower_is_better_metrics():
    from lsctl.evaluate.plots import forest_category

    up = _row("a", 0.1, 0.05, 0.2, "no difference")
    down = _row("a", -0.1, -0.2, -0.05, "no difference")
    assert forest_category(up, "accuracy") == "ci-better"
    assert forest_category(up, "nll") == "ci-worse"
    assert forest_category(down, "ece") == "ci-better"
    assert forest_category(_row("a", 0, -0.1, 0.1, "no difference"), "nll") == "none"
