"""`lsctl plot curves` on run directories that `lsctl train` itself wrote."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from trainkit import tiny_config, write_dataset

from lsctl.train.loop import train


@pytest.mark.slow  # two tiny trainings: a few seconds on a busy CPU
def test_curves_of_two_trained_seeds(cli, tmp_path):
    data = write_dataset(tmp_path / "train.parquet", n=60)
    dev = write_dataset(tmp_path / "dev.parquet", n=30, seed=1)
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = []
        for seed in (1, 2):
            out = tmp_path / f"cnn-s{seed}"
            train(
                tiny_config(
                    data,
                    out,
                    dev=str(dev),
                    seed=seed,
                    epochs=3,
                    warmup_epochs=1,
                    label_smoothing=0.1,
                )
            )
            runs.append(out)
    finally:
        torch.set_num_threads(old)
    png = tmp_path / "curves.png"
    r = cli("plot", "curves", *runs, "-o", png)
    assert r.exit_code == 0, r.stderr
    assert "cnn×2" in r.stderr and png.read_bytes()[:4] == b"\x89PNG"

    # The drawn mean line is the mean of the two metrics.parquet files.
    from lsctl.evaluate.curves import draw_curves, group_runs, read_run

    systems = group_runs([read_run(str(p)) for p in runs])
    assert [s.name for s in systems] == ["cnn"]
    assert [r.warmup_epochs for r in systems[0].runs] == [1, 1]
    fig = draw_curves(systems)
    try:
        line = next(ln for ln in fig.axes[0].get_lines() if ln.get_label() == "cnn (×2)")
        acc = [
            pq.read_table(p / "metrics.parquet").column("dev_accuracy").to_pylist() for p in runs
        ]
        assert np.allclose(line.get_ydata(), np.mean(acc, axis=0))
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
