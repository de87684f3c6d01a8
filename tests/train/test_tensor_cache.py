"""The tokenized-data cache: a second run skips tokenizing and trains identically."""

from __future__ import annotations

import os

import pytest
import torch
from trainkit import tiny_config, write_dataset

from lsctl.train import data as data_mod
from lsctl.train import tensor_cache
from lsctl.train.loop import Trainer, train


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _trainer(cfg):
    return Trainer(cfg, data_mod.load(cfg.resolved()), write=False)


def _entries():
    return sorted(tensor_cache.cache_dir().glob("*.pt"))


def test_a_hit_gives_bit_identical_tensors_without_tokenizing(tmp_path, monkeypatch):
    path = write_dataset(tmp_path / "d.parquet", n=120)
    cfg = tiny_config(path, tmp_path / "run")
    first = _trainer(cfg)
    assert first.tensor_cache == "miss" and len(_entries()) == 1

    # A hit must not tokenize at all: make tokenizing fail.
    def no_tokenizing(*a, **k):
        raise AssertionError("tokenized on a cache hit")

    monkeypatch.setattr("lsctl.text.tokenize.tokenize", no_tokenizing)
    second = _trainer(cfg)
    assert second.tensor_cache == "hit"
    assert second.vocab.itos == first.vocab.itos
    for name in ("train_ids", "train_len", "dev_ids", "dev_len"):
        a, b = getattr(first, name), getattr(second, name)
        assert a.dtype == b.dtype and torch.equal(a, b), name


def test_cached_tensors_equal_a_fresh_encoding(tmp_path):
    # Independent of the cache: encode the texts again with the run's own vocabulary.
    path = write_dataset(tmp_path / "d.parquet", n=90)
    cfg = tiny_config(path, tmp_path / "run")
    _trainer(cfg)
    hit = _trainer(cfg)
    ids, lengths = hit.encoder(hit.data.train.texts)
    assert torch.equal(ids, hit.train_ids) and torch.equal(lengths, hit.train_len)


def test_runs_with_and_without_cache_end_identical(tmp_path):
    path = write_dataset(tmp_path / "d.parquet", n=120)
    results = {}
    for tag, cache in (("cold", True), ("warm", True), ("off", False)):
        r = train(tiny_config(path, tmp_path / tag, epochs=2, cache=cache))
        results[tag] = (r.history, r.model.state_dict())
    assert len(_entries()) == 1
    for tag in ("warm", "off"):
        hist, state = results[tag]
        base_hist, base_state = results["cold"]
        assert [h["train_loss"] for h in hist] == [h["train_loss"] for h in base_hist]
        assert all(torch.equal(state[k], base_state[k]) for k in base_state)


def test_options_that_shape_the_tensors_are_in_the_key(tmp_path):
    path = write_dataset(tmp_path / "d.parquet", n=120)
    _trainer(tiny_config(path, tmp_path / "a"))
    for change in ({"max_length": 7}, {"vocab_size": 20}, {"min_count": 2}, {"seed": 4}):
        t = _trainer(tiny_config(path, tmp_path / "a", **change))
        # A different seed is a different dev split: different texts, a miss.
        assert t.tensor_cache == "miss", change
    assert len(_entries()) == 5


def test_no_cache_reads_and_writes_nothing(tmp_path, cli):
    path = write_dataset(tmp_path / "d.parquet", n=60)
    r = cli("train", path, "-o", tmp_path / "run", "--epochs", "1", "--threads", "1",
            "--embed-dim", "8", "--no-cache", "--quiet")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert _entries() == []
    r = cli("train", path, "-o", tmp_path / "run2", "--epochs", "1", "--threads", "1",
            "--embed-dim", "8", "--quiet")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert len(_entries()) == 1


def test_a_damaged_entry_is_a_miss_and_is_rebuilt(tmp_path):
    path = write_dataset(tmp_path / "d.parquet", n=60)
    cfg = tiny_config(path, tmp_path / "run")
    _trainer(cfg)
    (entry,) = _entries()
    entry.write_bytes(entry.read_bytes()[:100])
    t = _trainer(cfg)
    assert t.tensor_cache == "miss"
    assert _trainer(cfg).tensor_cache == "hit"


def test_least_recently_used_entries_go_first(tmp_path, monkeypatch):
    d = tensor_cache.cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(["old", "mid", "new"]):
        p = d / f"{name}.pt"
        p.write_bytes(b"x" * 1000)
        os.utime(p, (1000 + i, 1000 + i))
    removed = tensor_cache.evict(2000)
    assert [p.name for p in removed] == ["old.pt"]
    assert sorted(p.name for p in _entries()) == ["mid.pt", "new.pt"]
    # The bound from the environment applies on every store.
    monkeypatch.setenv("LSCTL_CACHE_MAX_MB", "0.0025")  # 2,621 bytes
    tensor_cache.store("k", {"x": torch.zeros(10)})
    assert sorted(p.name for p in _entries()) == ["k.pt", "new.pt"]
