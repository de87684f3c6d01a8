"""LS-Distill: teacher logits → softmax(z / T), matched by id; in-sample warning; TREC end to end."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from conftest import shared_dataset

from lsctl.artifacts import file_sha256, make_meta, prob_array, write_artifact
from lsctl.errors import LsctlError
from lsctl.smoothing import registry
from lsctl.smoothing.base import Context

LABELS = ["a", "b", "c"]


def _data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return pa.table(
        {
            "id": pa.array(np.arange(100, 100 + n)),
            "text": [f"text {i}" for i in range(n)],
            "label": [LABELS[i] for i in y],
        }
    )


def _teacher(path, ids, logits, labels=LABELS, **meta_extra):
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    table = pa.table(
        {
            "id": pa.array(ids),
            "label": [labels[0]] * len(ids),
            "pred": [labels[i] for i in probs.argmax(1)],
            "probs": prob_array(probs),
            "logits": prob_array(logits),
        }
    )
    write_artifact(table, str(path), make_meta("predictions", labels, {}, [], **meta_extra))
    return path


def _run(table, teacher, temperature=None, where="DATA", labels=LABELS, mix=None):
    method = registry.get("distill")()
    params = {"teacher": str(teacher), "temperature": temperature, "mix": mix}
    method.validate(params)
    ctx = Context.from_table(table, labels, params, where=where, batch_size=7)
    method.prepare(ctx)
    out = np.concatenate([method.targets(ctx, b, s) for s, b in ctx.batches()])
    return out, ctx


@pytest.mark.parametrize("temperature", [None, 1.0, 2.5])
def test_targets_are_tempered_softmax_matched_by_id(tmp_path, temperature):
    data = _data()
    rng = np.random.default_rng(1)
    z = rng.normal(scale=5, size=(data.num_rows, 3)).astype(np.float32)
    perm = rng.permutation(data.num_rows)  # teacher rows in another order
    ids = data.column("id").to_numpy()
    teacher = _teacher(tmp_path / "t.parquet", ids[perm], z[perm])
    d, ctx = _run(data, teacher, temperature)
    t = 4.0 if temperature is None else temperature
    expected = torch.softmax(torch.tensor(z, dtype=torch.float64) / t, dim=1).numpy()
    np.testing.assert_allclose(d, expected, rtol=1e-12, atol=1e-15)
    assert ctx.inputs[0]["sha256"] == file_sha256(str(teacher))
    assert not ctx.warnings


def test_mix_gives_the_authors_loss_under_soft_ce(tmp_path):
    """(1−α)·onehot + α·softmax(z/T) under soft CE equals (1−α)·CE(y) + α·CE(teacher)."""
    data = _data()
    rng = np.random.default_rng(2)
    z = rng.normal(scale=3, size=(data.num_rows, 3)).astype(np.float32)
    teacher = _teacher(tmp_path / "t.parquet", data.column("id").to_numpy(), z)
    d, _ = _run(data, teacher, 4.0, mix=0.4)
    y = torch.tensor([LABELS.index(v) for v in data.column("label").to_pylist()])
    student = torch.tensor(rng.normal(size=(data.num_rows, 3)))
    logp = torch.log_softmax(student, 1)
    soft_ce = -(torch.tensor(d) * logp).sum(1).mean()
    teacher_p = torch.softmax(torch.tensor(z, dtype=torch.float64) / 4.0, 1)
    authors = 0.6 * torch.nn.functional.cross_entropy(student, y) + 0.4 * (
        -(teacher_p * logp).sum(1).mean()
    )
    assert float(soft_ce) == pytest.approx(float(authors), rel=1e-12)
    np.testing.assert_allclose(d.sum(1), 1.0)
    with pytest.raises(LsctlError, match=r"mix=1\.5 is outside \[0, 1\]"):
        registry.get("distill")().validate({"teacher": "t", "mix": 1.5})


def test_teacher_label_order_is_mapped(tmp_path):
    data = _data(6)
    z = np.arange(18, dtype=np.float32).reshape(6, 3)
    ids = data.column("id").to_numpy()
    # Teacher columns are c, a, b: column j of z belongs to label ["c","a","b"][j].
    teacher = _teacher(tmp_path / "t.parquet", ids, z, labels=["c", "a", "b"])
    d, _ = _run(data, teacher, 1.0)
    expected = torch.softmax(torch.tensor(z[:, [1, 2, 0]], dtype=torch.float64), 1).numpy()
    np.testing.assert_allclose(d, expected)


def test_large_logits_do_not_overflow(tmp_path):
    data = _data(3)
    z = np.array([[1000.0, 0.0, -1000.0], [3e4, 3e4, 0.0], [0.0, 0.0, 0.0]], np.float32)
    teacher = _teacher(tmp_path / "t.parquet", data.column("id").to_numpy(), z / 1000)
    # Rewrite with huge logits directly (the helper's own exp would overflow).
    t = pq.read_table(teacher)
    t = t.set_column(4, "logits", prob_array(z))
    pq.write_table(t, teacher)
    d, _ = _run(data, teacher, 0.5)
    assert np.isfinite(d).all()
    np.testing.assert_allclose(d[1], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(d.sum(1), 1.0)


def test_errors(tmp_path):
    data = _data(5)
    ids = data.column("id").to_numpy()
    z = np.zeros((5, 3), np.float32)

    short = _teacher(tmp_path / "short.parquet", ids[[0, 1, 3, 4]], z[:4])
    with pytest.raises(LsctlError, match="no teacher prediction for id 102"):
        _run(data, short)

    other = _teacher(tmp_path / "other.parquet", ids, z, labels=["a", "b", "x"])
    with pytest.raises(LsctlError, match="teacher labels"):
        _run(data, other)

    method = registry.get("distill")()
    with pytest.raises(
        LsctlError, match=r"method='distill' needs teacher: the teacher.s predictions"
    ):
        method.validate({"teacher": None})
    with pytest.raises(LsctlError, match=r"temperature=0\.0 must be > 0"):
        method.validate({"teacher": "t.parquet", "temperature": 0.0})


def test_in_sample_teacher_warns(tmp_path):
    train = tmp_path / "train.parquet"
    data = _data(8)
    pq.write_table(data, train)
    sha = file_sha256(str(train))
    z = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    ids = data.column("id").to_numpy()
    run_config = {"inputs": [{"path": str(train), "sha256": sha}]}
    inside = _teacher(tmp_path / "in.parquet", ids, z, run_config=run_config, dataset_sha256=sha)
    _, ctx = _run(data, inside, where=str(train))
    assert any("in-sample" in w for w in ctx.warnings)
    assert ctx.info["teacher"]["in_sample"] is True

    # Out of fold: the teacher was trained on another file and predicted on DATA.
    oof_config = {"inputs": [{"path": "/elsewhere/fold.parquet", "sha256": "0" * 64}]}
    outside = _teacher(tmp_path / "oof.parquet", ids, z, run_config=oof_config, dataset_sha256=sha)
    _, ctx = _run(data, outside, where=str(train))
    assert not ctx.warnings


@pytest.mark.slow
def test_distill_end_to_end_on_trec(cli, tmp_path):
    train = shared_dataset("trec", "train.parquet")
    run = tmp_path / "teacher"
    r = cli(
        "train", train, "-o", run, "--loss", "ce", "--epochs", "1", "--embed-dim", "16",
        "--max-length", "16", "--batch-size", "128", "--vocab-size", "5000", "--seed", "0",
        "--device", "cpu", "-q",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    preds = tmp_path / "teacher-train.parquet"
    r = cli("eval", run, train, "-o", preds, "-q")
    assert r.exit_code == 0, r.stderr
    soft = tmp_path / "distill.parquet"
    r = cli(
        "softlabel", train, "--method", "distill", "--teacher", preds,
        "--temperature", "2", "-o", soft, "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert any("in-sample" in w for w in summary["warnings"])  # taught on its own train set

    out = pq.read_table(soft)
    d = np.array(out.column("soft_label").to_pylist())
    p = pq.read_table(preds)
    np.testing.assert_allclose(d.sum(1), 1.0, atol=1e-6)
    assert out.num_rows == p.num_rows == pq.read_metadata(train).num_rows
    teacher_pred = np.array(p.column("probs").to_pylist()).argmax(1)
    assert (d.argmax(1) == teacher_pred).mean() > 0.99
    z = np.array(p.column("logits").to_pylist(), dtype=np.float64)
    expected = torch.softmax(torch.tensor(z) / 2, dim=1).numpy()
    np.testing.assert_allclose(d, expected, atol=1e-6)
    # T = 2 flattens the teacher: targets are less confident than its own probabilities.
    assert d.max(1).mean() < np.array(p.column("probs").to_pylist()).max(1).mean()


def test_out_of_fold_teachers_are_combined(tmp_path):
    data = _data(10)
    ids = data.column("id").to_numpy()
    z = np.random.default_rng(2).normal(size=(10, 3)).astype(np.float32)
    fold_a, fold_b = np.arange(0, 10, 2), np.arange(1, 10, 2)
    # Teacher A was trained on fold B's file and predicted fold A, and vice versa.
    cfg_a = {"inputs": [{"path": "/x/fold-b.parquet", "sha256": "b" * 64}]}
    cfg_b = {"inputs": [{"path": "/x/fold-a.parquet", "sha256": "a" * 64}]}
    pa_ = _teacher(
        tmp_path / "a.parquet", ids[fold_a], z[fold_a], run_config=cfg_a, dataset_sha256="a" * 64
    )
    pb = _teacher(
        tmp_path / "b.parquet", ids[fold_b], z[fold_b], run_config=cfg_b, dataset_sha256="b" * 64
    )
    d, ctx = _run(data, f"{pa_},{pb}", 3.0)
    expected = torch.softmax(torch.tensor(z, dtype=torch.float64) / 3.0, dim=1).numpy()
    np.testing.assert_allclose(d, expected, rtol=1e-12)
    assert not ctx.warnings
    assert len(ctx.inputs) == 2

    overlap = _teacher(tmp_path / "o.parquet", ids[:3], z[:3])
    with pytest.raises(LsctlError, match="more than one teacher prediction"):
        _run(data, f"{pa_},{overlap}")


@pytest.mark.parametrize("repeat_at", [3, 12])  # within one batch of 7, across batches
def test_a_repeated_data_id_is_refused_not_given_one_target(tmp_path, repeat_at):
    data = _data()
    ids = data.column("id").to_numpy().copy()
    z = np.random.default_rng(2).normal(size=(len(ids), 3)).astype(np.float32)
    teacher = _teacher(tmp_path / "t.parquet", ids, z)
    ids[repeat_at] = ids[1]
    dup = data.set_column(0, "id", pa.array(ids))
    with pytest.raises(LsctlError, match=rf"id {ids[1]} is on more than one row"):
        _run(dup, teacher)


def test_a_piped_teacher_is_recorded_with_its_content_hash(cli, tmp_path):
    # The hash of a stream is known only once it is read: it is recorded then,
    # not as null at open time.
    data = _data()
    pq.write_table(data, tmp_path / "d.parquet")
    z = np.random.default_rng(3).normal(size=(data.num_rows, 3)).astype(np.float32)
    teacher = _teacher(tmp_path / "t.parquet", data.column("id").to_numpy(), z)
    out = tmp_path / "o.parquet"
    r = cli("softlabel", tmp_path / "d.parquet", "-m", "distill", "--teacher", "-", "-o", out,
            "-q", input=teacher.read_bytes())  # fmt: skip
    assert r.exit_code == 0, r.stderr
    meta = json.loads(pq.read_schema(out).metadata[b"lsctl"])
    inputs = meta["inputs"]
    assert inputs[1] == {"path": "-", "sha256": file_sha256(str(teacher))}
    # The defaults used are recorded as values, not as null.
    assert (meta["params"]["temperature"], meta["params"]["mix"]) == (4.0, 1.0)
    assert inputs[0]["sha256"] == file_sha256(str(tmp_path / "d.parquet"))
