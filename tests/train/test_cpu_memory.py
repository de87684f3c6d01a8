"""glibc keeps freed large blocks during CPU training, and nothing else changes."""

from __future__ import annotations

import contextlib
import resource

import numpy as np
import pytest

from lsctl.train import cpu_memory
from lsctl.train.cpu_memory import reuse_large_blocks

glibc = pytest.mark.skipif(cpu_memory._glibc() is None, reason="needs glibc (Linux)")


def _faults_of_big_allocations(n: int = 4, mb: int = 64) -> int:
    """Minor page faults while allocating, touching and freeing ``n`` blocks of ``mb`` MB."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(n):
        block = np.ones(mb << 18, dtype=np.float32)  # mb MiB, every page written
        del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@glibc
def test_freed_large_blocks_are_reused_inside_and_returned_after():
    # Fault counts depend on the page size in use (transparent huge pages), so
    # the three phases are compared with each other.
    default = _faults_of_big_allocations()
    assert default >= 4 * 16  # at least a few faults per fresh 64 MB mapping
    with reuse_large_blocks({}) as applied:
        assert applied
        _faults_of_big_allocations(1)  # the heap grows once
        kept = _faults_of_big_allocations()
    assert kept <= default // 10, (kept, default)
    # Defaults are back afterwards: fresh mappings again.
    assert _faults_of_big_allocations() >= default // 2


def test_the_users_malloc_settings_win():
    for var in ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"):
        with reuse_large_blocks({var: "1"}) as applied:
            assert not applied


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(cpu_memory, "_glibc", lambda: None)
    with reuse_large_blocks({}) as applied:
        assert not applied


@glibc
def test_training_is_identical_with_and_without_reused_blocks(tmp_path, monkeypatch):
    # Reused blocks hold old data where fresh pages held zeros: a step that read
    # memory it never wrote would differ here.
    pytest.importorskip("torch")
    import torch

    from lsctl.train.loop import train
    from tests.train.trainkit import tiny_kim_config, write_dataset

    data = write_dataset(tmp_path / "train.parquet", n=90)
    applied = []
    real = cpu_memory.reuse_large_blocks

    @contextlib.contextmanager
    def spy(environ=None):
        with real(environ) as on:
            applied.append(on)
            yield on

    monkeypatch.setattr("lsctl.train.loop.reuse_large_blocks", spy)
    ours = train(tiny_kim_config(data, tmp_path / "a", cache=False))
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")  # the user's choice: not applied
    plain = train(tiny_kim_config(data, tmp_path / "b", cache=False))
    assert applied == [True, False]
    a, b = ours.model.state_dict(), plain.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [r["train_loss"] for r in ours.history] == [r["train_loss"] for r in plain.history]
