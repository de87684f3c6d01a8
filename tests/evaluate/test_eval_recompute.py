"""`lsctl eval` metrics recomputed from its own output, and ECE binning as a property.

The summary's ECE, Brier and NLL are recomputed here from the ``probs`` the
command wrote, with plain loops. Adaptive and classwise ECE are checked
against loops in test_calibration.py.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest
from evalkit import three_class_dataset
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lsctl.evaluate import metrics

K_WIDE = 40  # classes in the property test: any confidence ≥ 1/40 can be a top probability


def _bin_of(c: float, bins: int) -> int:
    """Guo et al.'s bins (b/M, (b+1)/M], 0 in the first, by a search over the edges b/M."""
    for b in range(bins):
        if b / bins < c <= (b + 1) / bins or (b == 0 and c == 0):
            return b
    raise AssertionError(f"confidence {c} in no bin")


@st.composite
def binned_confidences(draw, low: float = 0.0):
    """(bins, confidences): many exactly on the edges b/M, at 0 (when allowed) and at 1.0."""
    bins = draw(st.integers(1, 30))
    edges = [b / bins for b in range(bins + 1) if b / bins >= low]
    value = st.one_of(
        st.sampled_from(edges),
        st.just(1.0),
        st.floats(low, 1.0, allow_nan=False),
    )
    return bins, draw(st.lists(value, min_size=1, max_size=40))


# Edges where c·M rounds above b in floating point (7/25 · 25 = 7.000000000000001):
# a ceil(c·M) − 1 binning puts them one bin too high.
ON_ROUNDED_EDGES = (25, [7 / 25, 14 / 25, 1.0, 0.5])


@settings(max_examples=300, deadline=None)
@given(binned_confidences())
@example(ON_ROUNDED_EDGES)
@example((3, [0.0, 1 / 3, 2 / 3, 1.0]))
def test_bin_index_matches_a_loop_over_the_edges(case):
    bins, conf = case
    got = metrics.bin_index(np.array(conf), bins)
    assert got.tolist() == [_bin_of(c, bins) for c in conf]


@st.composite
def reliability_cases(draw):
    """(bins, confidences, top class per row, gold label per row)."""
    bins, conf = draw(binned_confidences(low=1 / K_WIDE))
    classes = st.lists(st.integers(0, K_WIDE - 1), min_size=len(conf), max_size=len(conf))
    return bins, conf, draw(classes), draw(classes)


@settings(max_examples=200, deadline=None)
@given(reliability_cases())
@example((*ON_ROUNDED_EDGES, [0, 1, 2, 3], [0, 2, 2, 0]))
def test_reliability_counts_and_means_match_a_loop(case):
    bins, conf, top, y = case
    n = len(conf)
    # Row i: its top class at exactly conf[i], the rest spread evenly (never above it).
    probs = np.empty((n, K_WIDE))
    for i, (c, t) in enumerate(zip(conf, top, strict=True)):
        probs[i] = (1 - c) / (K_WIDE - 1)
        probs[i, t] = c
    rel = metrics.reliability(probs, np.array(y), bins)

    count = [0] * bins
    conf_sum = [0.0] * bins
    hits = [0] * bins
    for i in range(n):
        row = list(probs[i])
        c = max(row)
        pred = row.index(c)  # first index on ties, as argmax
        b = _bin_of(c, bins)
        count[b] += 1
        conf_sum[b] += c
        hits[b] += pred == y[i]
    assert rel.count.tolist() == count
    for b in range(bins):
        if count[b]:
            assert rel.confidence[b] == pytest.approx(conf_sum[b] / count[b], abs=1e-12)
            assert rel.accuracy[b] == pytest.approx(hits[b] / count[b], abs=1e-12)
        else:
            assert math.isnan(rel.confidence[b]) and math.isnan(rel.accuracy[b])
    ece = sum(abs(hits[b] - conf_sum[b]) for b in range(bins)) / n
    assert rel.ece == pytest.approx(ece, abs=1e-12)


# -- eval --bins on a tiny trained run ----------------------------------------


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """A one-epoch TextCNN run (half-trained, so not every confidence is near 1) and eval --bins 5."""
    from typer.testing import CliRunner

    from lsctl.cli.app import app

    d = tmp_path_factory.mktemp("evalbins")
    train = three_class_dataset(d / "train.parquet", 90, 0)
    dev = three_class_dataset(d / "dev.parquet", 30, 1)
    test = three_class_dataset(d / "test.parquet", 120, 2)
    run = d / "run"
    args = ["train", train, "-o", run, "--dev", dev, "--epochs", "1", "--embed-dim", "8"]
    args += ["--max-length", "8", "--lr", "0.003", "--threads", "1", "--device", "cpu", "-q"]
    r = CliRunner().invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, r.stderr
    out = d / "preds.parquet"
    r = CliRunner().invoke(app, ["eval", str(run), str(test), "-o", str(out), "--bins", "5"])
    assert r.exit_code == 0, r.stderr
    r_json = CliRunner().invoke(
        app, ["eval", str(run), str(test), "-o", str(d / "p2.parquet"), "--bins", "5", "--json"]
    )
    assert r_json.exit_code == 0, r_json.stderr
    return {"summary": json.loads(r_json.stdout), "preds": out, "stderr": r.stderr}


def _written(path):
    t = pq.read_table(path)
    labels = json.loads(t.schema.metadata[b"lsctl"])["labels"]
    probs = [list(map(float, p)) for p in t.column("probs").to_pylist()]
    gold = [labels.index(g) for g in t.column("label").to_pylist()]
    return probs, gold


def _ece_loop(probs, gold, bins):
    total = 0.0
    for b in range(bins):
        members = [i for i, p in enumerate(probs) if _bin_of(max(p), bins) == b]
        if members:
            acc = sum(1 for i in members if probs[i].index(max(probs[i])) == gold[i])
            conf = sum(max(probs[i]) for i in members)
            total += abs(acc - conf) / len(probs)
    return total


def test_eval_summary_is_recomputed_from_the_written_probs(evaluated):
    s = evaluated["summary"]
    probs, gold = _written(evaluated["preds"])
    n = len(gold)
    assert s["n"] == n and s["bins"] == 5
    # probs are float32 on disk, the summary used float64: agreement to ~1e-6.
    ece5 = _ece_loop(probs, gold, 5)
    assert s["ece"] == pytest.approx(ece5, abs=1e-5)
    assert abs(ece5 - _ece_loop(probs, gold, 15)) > 1e-3  # --bins matters on this data
    brier = (
        sum(
            sum((p[k] - (k == g)) ** 2 for k in range(len(p)))
            for p, g in zip(probs, gold, strict=True)
        )
        / n
    )
    assert s["brier"] == pytest.approx(brier, abs=1e-5)
    nll = sum(-math.log(p[g]) for p, g in zip(probs, gold, strict=True)) / n
    assert s["nll"] == pytest.approx(nll, rel=1e-5)
    acc = sum(1 for p, g in zip(probs, gold, strict=True) if p.index(max(p)) == g) / n
    assert s["accuracy"] == pytest.approx(acc)
    # The printed table names the bin count it used.
    assert "ECE (5 bins)" in evaluated["stderr"]
