"""Shared test fixtures. Tests never touch the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# lsctl's OpenMP wait default (lsctl/train/cpu_threads.py) must be in the
# environment before any test file imports torch, as it is for the CLI: else
# libgomp's idle threads spin against the suite's other work.
import lsctl.train  # noqa: F401

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LSCTL_SHARED", REPO.parent / "shared")) / "datasets"


def shared_dataset(*parts: str) -> Path:
    """Path under ../shared/datasets, or skip the test with a reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared benchmarks are only on developer/CI machines)")
    return path


@pytest.fixture(autouse=True)
def _own_tensor_cache(tmp_path_factory, monkeypatch):
    """Each test gets an empty tokenized-data cache: no hit from another test, and
    nothing written to the user's ~/.cache (subprocesses inherit the variable)."""
    monkeypatch.setenv("LSCTL_CACHE_DIR", str(tmp_path_factory.mktemp("lsctl-cache")))


@pytest.fixture
def runner():
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture
def cli(runner):
    """Invoke ``lsctl ARGS…``; returns the result (stdout/stderr separated)."""
    from lsctl.cli.app import app

    def invoke(*args: str, input: bytes | str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input)

    return invoke
