"""Tables at 80 columns never cut a number (issue 13, item 5).

The expected cells are formatted here from the commands' --json output, so
the check does not trust the renderer: each one must appear whole.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa
import pytest
from rich.table import Table

from lsctl.artifacts import make_meta, write_artifact
from lsctl.evaluate.run import predictions_table


@pytest.fixture
def cli80(runner):
    from lsctl.cli.app import app

    def invoke(*args, columns="80"):
        return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": columns})

    return invoke


def _p(p):
    if p is None:
        return "—"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


def _compare_files(tmp_path):
    rng = np.random.default_rng(0)
    labels = ["negative", "neutral", "positive"]
    y = rng.integers(0, 3, 400)
    files = []
    names = ("ce", "kwls-aux-alpha-one-with-a-long-name", "uniform-smoothing-0.1")
    for name, acc in zip(names, (0.7, 0.8, 0.72), strict=True):
        for seed in (1, 2, 3):
            z = rng.normal(size=(400, 3))
            ok = rng.random(400) < acc
            z[np.arange(400), np.where(ok, y, (y + 1) % 3)] += 3.0
            table, _ = predictions_table(np.arange(400), labels, y, z)
            path = tmp_path / f"{name}-{seed}.parquet"
            write_artifact(table, str(path), make_meta("predictions", labels, name=name, seed=seed))
            files.append(path)
    return files


def _no_cut(text, width):
    assert "…" not in text
    for line in text.splitlines():
        assert len(line) <= width, line


def test_compare_at_80_columns_shows_every_number(cli80, tmp_path):
    files = _compare_files(tmp_path)
    args = ["compare", *files, "--baseline", "ce", "--rounds", "300"]
    rows = json.loads(cli80(*args, "--json").stdout)["rows"]
    r = cli80(*args)
    assert r.exit_code == 0, r.stderr
    _no_cut(r.stderr, 80)
    for row in rows:
        cells = [
            row["system"],
            f"{row['mean']:.4f}",
            f"{row['baseline_mean']:.4f}",
            f"{row['delta']:+.4f}",
            f"{row['ci_low']:+.4f}..{row['ci_high']:+.4f}",
            *(
                _p(row[k])
                for k in ("p_bootstrap", "p_ttest", "p_wilcoxon", "p_mcnemar", "p_adjusted")
            ),
            row["verdict"],
        ]
        for cell in cells:
            assert cell in r.stderr, cell


def test_compare_wide_enough_keeps_the_table(cli80, tmp_path):
    files = _compare_files(tmp_path)
    r = cli80("compare", *files, "--baseline", "ce", "--rounds", "300", columns="200")
    assert r.exit_code == 0, r.stderr
    header = [line for line in r.stderr.splitlines() if "system" in line and "verdict" in line]
    assert len(header) == 1  # one table row of headers, not a block per row


def test_noise_at_80_columns_shows_every_rate(cli80, tmp_path):
    labels = [f"class{i}" for i in range(6)]
    data = tmp_path / "d.parquet"
    y = [labels[i % 6] for i in range(600)]
    table = pa.table({"text": [f"t {i}" for i in range(600)], "label": y})
    write_artifact(table, str(data), make_meta("dataset", labels))
    args = ["noise", data, "--kind", "symmetric", "--rate", "0.2", "--seed", "1"]
    summary = json.loads(cli80(*args, "-o", tmp_path / "a.parquet", "--json").stdout)
    r = cli80(*args, "-o", tmp_path / "b.parquet")
    assert r.exit_code == 0, r.stderr
    _no_cut(r.stderr, 80)
    intended, realized = np.array(summary["intended_T"]), np.array(summary["realized_T"])
    text = r.stderr
    for i in range(6):
        # Each clean class's block lists its row of T, every cell whole.
        block = text.split(f"clean \\ noisy: class{i}")[1].split("clean \\ noisy:")[0]
        for j in range(6):
            assert f"class{j}  {intended[i, j]:.3f}/{realized[i, j]:.3f}" in block


def test_data_info_with_noise_at_80_columns(cli80, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short path in the title line
    labels = [f"a-rather-long-class-name-{i}" for i in range(3)]
    rng = np.random.default_rng(3)
    clean = [labels[i % 3] for i in range(300)]
    noisy = [labels[(i + (rng.random() < 0.3)) % 3] for i in range(300)]
    table = pa.table({"text": ["x y"] * 300, "label": noisy, "clean_label": clean})
    data = "d.parquet"
    write_artifact(table, data, make_meta("dataset", labels))
    info = json.loads(cli80("data", "info", data, "--json").stdout)
    r = cli80("data", "info", data)
    assert r.exit_code == 0, r.stderr
    _no_cut(r.stderr, 80)
    for c in info["classes"]:
        assert f"{c['share']:.2%}" in r.stderr
    for p in info["noise"]["per_class"]:
        assert f"{p['rate']:.2%}" in r.stderr


def test_print_table_falls_back_to_blocks_without_cutting():
    from rich.console import Console

    from lsctl.cli.common import print_table

    t = Table(title="t")
    for name in ("name", *(f"metric{i}" for i in range(8))):
        t.add_column(name)
    values = [f"{v:.6f}" for v in np.random.default_rng(0).random(8)]
    t.add_row("system-[bold]x[/bold]", *values)
    out = Console(width=40, record=True, color_system=None)
    print_table(t, out)
    text = out.export_text()
    assert "…" not in text and "name: system-x" in text
    for i, v in enumerate(values):
        assert re.search(rf"metric{i}\s+{re.escape(v)}", text)
    wide = Console(width=200, record=True, color_system=None)
    print_table(t, wide)
    assert "┃ name" in wide.export_text() or "name " in wide.export_text().splitlines()[1]
