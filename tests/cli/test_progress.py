"""Progress in a terminal: one live display per command (issue 13, item 6).

Restarting the display for every task re-printed the earlier bars and drew
over the lines printed between tasks. A recording console forced to act as a
terminal shows what a user's terminal receives.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from rich.console import Console


@pytest.fixture
def terminal(monkeypatch):
    """Make lsctl's stderr console a 100-column terminal; count live-display starts."""
    import rich.progress

    from lsctl.cli import common

    fake = Console(file=io.StringIO(), force_terminal=True, width=100, record=True)
    monkeypatch.setattr(common._StderrConsole, "_real", fake)
    starts = []
    real_start = rich.progress.Progress.start

    def start(self):
        starts.append(self)
        real_start(self)

    monkeypatch.setattr(rich.progress.Progress, "start", start)
    yield fake, starts
    common.close_progress()


def _plain(console):
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", console.export_text())


def test_one_display_for_many_tasks_and_lines_persist(terminal):
    from lsctl.cli import common

    fake, starts = terminal

    @common.handle_errors
    def command():
        p = common.progress()
        assert common.progress() is p  # every caller in the command shares it
        with p.task("building vocabulary"):
            pass
        for _ in range(2):
            with p.task("tokenizing"):
                pass
        for e in (1, 2, 3):
            with p.task(f"epoch {e}/3", total=4) as t:
                t.advance(4)
            common.info(f"epoch {e}/3: train loss 0.{e}")

    command()
    assert len(starts) == 1
    live = starts[0]
    assert not live.live.is_started  # stopped when the command returned
    assert live.tasks == []  # finished bars left the display: nothing printed twice
    text = _plain(fake)
    for e in (1, 2, 3):
        assert text.count(f"epoch {e}/3: train loss 0.{e}") == 1


def test_the_display_stops_before_an_error_line(terminal):
    from lsctl.cli import common
    from lsctl.errors import LsctlError

    fake, starts = terminal

    @common.handle_errors
    def command():
        with common.progress().task("counting words", total=10):
            raise LsctlError("bad input")

    import typer

    with pytest.raises(typer.Exit):
        command()
    assert len(starts) == 1 and not starts[0].live.is_started
    assert common._active is None
    assert _plain(fake).count("Error: bad input") == 1


def test_train_in_a_terminal_keeps_one_line_per_epoch(terminal, cli, tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
    from trainkit import write_dataset

    fake, starts = terminal
    data = write_dataset(tmp_path / "train.parquet", n=60)
    r = cli(
        "train", data, "-o", tmp_path / "run", "--epochs", "3", "--embed-dim", "8",
        "--max-length", "16", "--device", "cpu", "--threads", "1",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert len(starts) == 1  # vocabulary, tokenizing, 3 epochs, dev passes: one display
    text = _plain(fake)
    for e in (1, 2, 3):
        assert len(re.findall(rf"epoch {e}: train loss \d\.\d{{4}}, dev accuracy", text)) == 1
    assert text.count("done: best dev accuracy") == 1
