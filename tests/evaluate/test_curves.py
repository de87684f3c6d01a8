"""Training curves: band math by hand, run grouping, and the drawn data read back from the figure.

Run directories are written with the trainer's own writers
(``run_dir.write_metrics`` and ``run_dir.write_json``), so metrics.parquet and
config.json have exactly the format ``lsctl train`` leaves.
"""

from __future__ import annotations

import numpy as np
import pytest

from lsctl.evaluate.curves import band, default_name, draw_curves, group_runs, read_run
from lsctl.train import run_dir as rd

LABELS = ["neg", "pos"]


def make_run(path, seed, dev_acc, train_loss=None, loss="aux", warmup=0, selected=None, **opts):
    """A finished run directory with one metrics row per entry of ``dev_acc``."""
    path.mkdir(parents=True)
    n = len(dev_acc)
    train_loss = train_loss if train_loss is not None else [1.0 / (e + 1) for e in range(n)]
    options = {
        "model": "textcnn",
        "loss": loss,
        "seed": seed,
        "output": str(path),
        "warmup_epochs": warmup,
        "epochs": n,
        "lr": 1e-3,
        "device": "cpu",
        **opts,
    }
    rows = [
        {
            "epoch": e + 1,
            "phase": "warmup" if e < warmup else "main",
            "loss": "ce" if e < warmup else loss,
            "train_loss": train_loss[e],
            "dev_accuracy": dev_acc[e],
            "dev_nll": 1.5 - dev_acc[e],
            "lr": 1e-3,
            "seconds": 0.1,
            "examples_per_s": 1000.0,
        }
        for e in range(n)
    ]
    if selected is None:
        cands = [e + 1 for e in range(warmup, n)]
        selected = max(cands, key=lambda e: dev_acc[e - 1])
    rd.write_metrics(str(path), rows, LABELS, options, selected)
    rd.write_json(
        str(path),
        rd.CONFIG,
        {
            "kind": "run",
            "status": "finished",
            "labels": LABELS,
            "seed": seed,
            "options": options,
            "selected_epoch": selected,
        },
    )
    return path


def _x_extent(patch) -> tuple[float, float]:
    """Data x range of an axvspan patch (a Rectangle in newer matplotlib, a Polygon before)."""
    if hasattr(patch, "get_width"):
        return patch.get_x(), patch.get_x() + patch.get_width()
    xs = np.asarray(patch.get_xy())[:, 0]
    return float(xs.min()), float(xs.max())


def test_band_minmax_and_sd_by_hand():
    v = np.array([[0.5, 0.6, 0.7], [0.7, 0.8, np.nan], [0.6, 0.4, np.nan]])
    mean, lo, hi = band(v, "minmax")
    assert mean.tolist() == pytest.approx([0.6, 0.6, 0.7])
    assert lo.tolist() == pytest.approx([0.5, 0.4, 0.7])
    assert hi.tolist() == pytest.approx([0.7, 0.8, 0.7])
    mean, lo, hi = band(v, "sd")
    # Epoch 1: values 0.5, 0.6, 0.7 → sample sd 0.1; epoch 2: 0.6, 0.8, 0.4 → sd 0.2;
    # epoch 3: a single seed, zero width.
    assert lo.tolist() == pytest.approx([0.5, 0.4, 0.7])
    assert hi.tolist() == pytest.approx([0.7, 0.8, 0.7])
    v2 = np.array([[1.0, np.nan], [3.0, np.nan]])
    mean, lo, hi = band(v2, "sd")
    assert mean[0] == 2.0 and lo[0] == pytest.approx(2 - np.sqrt(2)) and np.isnan(mean[1])
    with pytest.raises(ValueError, match="minmax or sd"):
        band(v, "iqr")


def test_runs_group_by_options_without_the_seed(tmp_path):
    runs = [
        read_run(make_run(tmp_path / "kwls-s1", 1, [0.5, 0.6])),
        read_run(make_run(tmp_path / "ce_seed2", 2, [0.5, 0.7], loss="ce")),
        read_run(make_run(tmp_path / "kwls-s2", 2, [0.55, 0.65])),
        read_run(make_run(tmp_path / "ce_seed1", 1, [0.4, 0.7], loss="ce")),
    ]
    systems = group_runs(runs)
    assert [(s.name, [r.seed for r in s.runs]) for s in systems] == [
        ("kwls", [1, 2]),
        ("ce", [2, 1]),
    ]
    # A name is stripped of its own seed only: "nls" with seed 1 stays "nls".
    assert default_name(read_run(make_run(tmp_path / "nls", 1, [0.5]))) == "nls"
    for folder, seed, name in [
        ("kwls1", 1, "kwls"),  # the s is the method's, not a seed marker
        ("nls2", 2, "nls"),
        ("kwls.s3", 3, "kwls"),
        ("kwls-seed-04", 4, "kwls"),
        ("kwls10", 0, "kwls10"),  # 10 is not seed 0
        ("ls-s12", 2, "ls-s12"),
    ]:
        run = read_run(make_run(tmp_path / "names" / folder, seed, [0.5]))
        assert default_name(run) == name, folder
    # Named groups come first; equal default names are told apart by the options
    # that differ, and by #2 when a named group has the name already.
    other = read_run(make_run(tmp_path / "x" / "kwls-s3", 3, [0.5, 0.6], lr=0.1))
    systems = group_runs([runs[0], other], {"base": [runs[1], runs[3]]})
    assert [s.name for s in systems] == ["base", "kwls (lr=0.001)", "kwls (lr=0.1)"]
    systems = group_runs([other], {"kwls": [runs[0]]})
    assert [s.name for s in systems] == ["kwls", "kwls#2"]


def test_drawn_lines_bands_and_marks_match_the_metrics(tmp_path):
    a1 = make_run(tmp_path / "ls-s1", 1, [0.50, 0.60, 0.70, 0.65], warmup=1)
    a2 = make_run(tmp_path / "ls-s2", 2, [0.40, 0.70, 0.60], warmup=1, epochs=4)  # stopped early
    b1 = make_run(tmp_path / "ce-s1", 1, [0.45, 0.55, 0.58], loss="ce")
    systems = group_runs([read_run(p) for p in (a1, a2, b1)])
    fig = draw_curves(systems, "minmax", "t")
    try:
        acc_ax, nll_ax, loss_ax = fig.axes
        lines = {ln.get_label(): ln for ln in acc_ax.get_lines()}
        ls = lines["ls (×2)"]
        assert ls.get_xdata().tolist() == [1, 2, 3, 4]
        # Mean over the seeds that reached each epoch, by hand.
        assert np.asarray(ls.get_ydata()).tolist() == pytest.approx([0.45, 0.65, 0.65, 0.65])
        ce = lines["ce (×1)"]
        assert np.asarray(ce.get_ydata()).tolist() == pytest.approx([0.45, 0.55, 0.58])
        # The band of ls: min..max per epoch, from the fill's polygon.
        fills = [c for c in acc_ax.collections if len(c.get_paths())]
        verts = fills[0].get_paths()[0].vertices
        ys = {}
        for x, y in verts:
            ys.setdefault(round(float(x), 6), []).append(float(y))
        for epoch, lo, hi in ((1, 0.40, 0.50), (2, 0.60, 0.70), (3, 0.60, 0.70)):
            assert min(ys[epoch]) == pytest.approx(lo) and max(ys[epoch]) == pytest.approx(hi)
        # Selected epochs (best dev accuracy after the warm-up) as stars at the runs' values.
        stars = [ln for ln in acc_ax.get_lines() if ln.get_marker() == "*" and len(ln.get_xdata())]
        pts = sorted(
            (float(x), float(y))
            for ln in stars
            for x, y in zip(ln.get_xdata(), ln.get_ydata(), strict=True)
        )
        assert np.allclose(pts, [(2.0, 0.70), (3.0, 0.58), (3.0, 0.70)])
        # The dev-loss and training-loss panels plot the other columns.
        nll = {ln.get_label(): ln for ln in nll_ax.get_lines()}["ce (×1)"]
        assert np.asarray(nll.get_ydata()).tolist() == pytest.approx([1.05, 0.95, 0.92])
        tl = {ln.get_label(): ln for ln in loss_ax.get_lines()}["ce (×1)"]
        assert np.asarray(tl.get_ydata()).tolist() == pytest.approx([1.0, 0.5, 1 / 3])
        # The CE warm-up (1 epoch) is shaded from 0.5 to 1.5 on every panel.
        for ax in fig.axes:
            spans = [p for p in ax.patches if p.get_alpha() == pytest.approx(0.12)]
            assert spans, ax.get_ylabel()
            assert _x_extent(spans[0]) == pytest.approx((0.5, 1.5))
        assert "min–max" in fig._suptitle.get_text()
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_sd_band_is_mean_plus_minus_sd(tmp_path):
    runs = [
        read_run(make_run(tmp_path / f"m-s{s}", s, acc))
        for s, acc in ((1, [0.5, 0.6]), (2, [0.7, 0.6]), (3, [0.6, 0.9]))
    ]
    fig = draw_curves(group_runs(runs), "sd")
    try:
        verts = fig.axes[0].collections[0].get_paths()[0].vertices
        at1 = [y for x, y in verts if x == 1]
        assert min(at1) == pytest.approx(0.6 - 0.1) and max(at1) == pytest.approx(0.6 + 0.1)
        sd2 = np.std([0.6, 0.6, 0.9], ddof=1)
        at2 = [y for x, y in verts if x == 2]
        assert min(at2) == pytest.approx(0.7 - sd2) and max(at2) == pytest.approx(0.7 + sd2)
        assert "± sd" in fig._suptitle.get_text()
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


@pytest.fixture
def two_systems(tmp_path):
    """Two systems × 2 seeds; the kwls runs had a 1-epoch CE warm-up."""
    return [
        make_run(tmp_path / "ce-s1", 1, [0.50, 0.60, 0.62], loss="ce"),
        make_run(tmp_path / "ce-s2", 2, [0.55, 0.58, 0.61], loss="ce"),
        make_run(tmp_path / "kwls-s1", 1, [0.52, 0.66, 0.70], warmup=1),
        make_run(tmp_path / "kwls-s2", 2, [0.48, 0.69, 0.68], warmup=1),
    ]


MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF", ".svg": b"<?xml"}


@pytest.mark.parametrize("ext", [".png", ".pdf", ".svg"])
def test_plot_curves_writes_each_format(cli, two_systems, tmp_path, ext):
    out = tmp_path / f"curves{ext}"
    r = cli("plot", "curves", *two_systems, "-o", out)
    assert r.exit_code == 0, r.stderr
    data = out.read_bytes()
    assert data.startswith(MAGIC[ext])
    assert "ce×2" in r.stderr and "kwls×2" in r.stderr
    if ext == ".svg":
        assert b"<svg" in data
    if ext == ".png":
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt

        from lsctl.evaluate.curves import PANELS

        img = plt.imread(str(out))
        # 4.2 × 3.6 inches per panel at the plots' 120 dpi.
        assert img.shape[:2] == (round(3.6 * 120), round(4.2 * len(PANELS) * 120))


def test_plot_curves_options_take_effect(cli, two_systems, tmp_path):
    def draw(name, *args):
        out = tmp_path / name
        r = cli("plot", "curves", *args, "-o", out)
        assert r.exit_code == 0, r.stderr
        return r, out.read_bytes()

    _, plain = draw("a.png", *two_systems)
    _, sd = draw("b.png", *two_systems, "--band", "sd")
    _, titled = draw("c.png", *two_systems, "--title", "TREC, TextCNN")
    assert sd != plain and titled != plain
    # --label: the named group whatever the options; the rest grouped by rule.
    ce1, ce2, k1, k2 = (str(p) for p in two_systems)
    r, _ = draw("d.png", k1, k2, "--label", f"mixed={ce1},{k2}")
    assert "wrote" in r.stderr and "mixed×2" in r.stderr and "kwls×1" in r.stderr
    # The same run spelled another way (a trailing slash) is still the labelled one.
    r, _ = draw("f.png", k1, k2 + "/", "--label", f"mixed={ce1},{k2}")
    assert "mixed×2" in r.stderr and "kwls×1" in r.stderr
    # ... and a run given twice is drawn once.
    r, _ = draw("g.png", k1, k2, k1 + "/")
    assert "kwls×2" in r.stderr
    r, _ = draw("e.png", "--label", f"only={ce1},{ce2}", "--quiet")
    assert r.stderr == ""


def test_plot_curves_errors(cli, two_systems, tmp_path):
    r = cli("plot", "curves", *two_systems, "-o", tmp_path / "c.jpg")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert "use .png, .pdf or .svg" in r.stderr and not (tmp_path / "c.jpg").exists()
    r = cli("plot", "curves", *two_systems, "-o", tmp_path / "c.png", "--band", "iqr")
    assert r.exit_code == 2 and "minmax or sd" in r.stderr
    r = cli("plot", "curves", "-o", tmp_path / "c.png")
    assert r.exit_code == 2
    r = cli("plot", "curves", tmp_path, "-o", tmp_path / "c.png")
    assert r.exit_code == 1 and "config.json" in r.stderr
    r = cli("plot", "curves", two_systems[0], "-o", tmp_path / "c.png", "--label", "x")
    assert r.exit_code == 2 and "NAME=RUN" in r.stderr
    ce1, ce2 = (str(p) for p in two_systems[:2])
    r = cli("plot", "curves", "-o", tmp_path / "c.png", "--label", f"a={ce1}",
            "--label", f"b={ce2},{ce1}/")  # fmt: skip
    assert r.exit_code == 2 and "is in both 'a' and 'b'" in r.stderr
    r = cli("plot", "curves", "-o", tmp_path / "c.png", "--label", f"a={ce1},{ce1}/")
    assert r.exit_code == 2 and "--label 'a' lists the run" in r.stderr
    assert not (tmp_path / "c.png").exists()
