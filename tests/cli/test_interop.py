"""Files that went through pandas or came from other code (issue 13, items 2-4).

A per-label vector column (soft_label, probs) carries no names; its order
lives in lsctl's schema metadata, which pandas drops. The order must then come
from --labels or be proved by the rows, never guessed.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lsctl.artifacts import make_meta, read_artifact, write_artifact

HF_ORDER = ["positive", "negative"]  # not sorted, as in many HF datasets
POS = ["good", "great", "fine", "happy", "nice"]
NEG = ["bad", "awful", "poor", "sad", "worse"]
TINY = ["--epochs", "1", "--embed-dim", "8", "--max-length", "16", "--device", "cpu"]


def _dataset(path, n=80, seed=0):
    """A dataset artifact whose metadata lists positive before negative."""
    rng = np.random.default_rng(seed)
    texts, gold = [], []
    for i in range(n):
        lab = HF_ORDER[i % 2]
        own = POS if lab == "positive" else NEG
        words = [*rng.choice(own, 3), *rng.choice(POS + NEG, 2)]
        texts.append(" ".join(words))
        gold.append(lab)
    table = pa.table({"text": texts, "label": gold})
    write_artifact(table, str(path), make_meta("dataset", HF_ORDER))
    return path


def _pandas_roundtrip(src, dst):
    pd.read_parquet(src).to_parquet(dst)
    assert pq.read_schema(dst).metadata.get(b"lsctl") is None  # the order is gone
    return dst


def _soft(table):
    return np.array(table.column("soft_label").to_pylist(), dtype=np.float64)


def _load(train, **kw):
    from lsctl.train.config import TrainConfig
    from lsctl.train.data import load

    config = TrainConfig(train=str(train), output="unused", loss="soft", **kw).resolved()
    return load(config)


def test_roundtrip_uniform_softlabels_keep_their_order(cli, tmp_path):
    """The issue's round trip: the rows prove the order, so training sees the right targets."""
    data = _dataset(tmp_path / "data.parquet")
    soft = tmp_path / "soft.parquet"
    r = cli("softlabel", data, "-o", soft, "--method", "uniform", "--epsilon", "0.2", "-q")
    assert r.exit_code == 0, r.stderr
    rt = _pandas_roundtrip(soft, tmp_path / "rt.parquet")

    original, reader = read_artifact(str(soft))
    assert reader.labels == HF_ORDER
    loaded = _load(rt, dev_split=0.5)
    assert loaded.labels == HF_ORDER  # sorted() would say negative, positive
    # Every training row's target is (1-ε)·onehot + ε/K in HF order, worked out by hand.
    pairs = list(
        zip(original.column("text").to_pylist(), original.column("label").to_pylist(), strict=True)
    )
    gold_of = dict(pairs)
    assert len(gold_of) == len(set(pairs))  # no text carries two labels
    for text, target, y in zip(
        loaded.train.texts, loaded.train.targets, loaded.train.y, strict=True
    ):
        want = np.full(2, 0.2 / 2)
        want[HF_ORDER.index(gold_of[text])] += 0.8
        np.testing.assert_allclose(target, want, atol=1e-6)
        assert y == HF_ORDER.index(gold_of[text])

    out = tmp_path / "run"
    r = cli("train", rt, "-o", out, "--loss", "soft", *TINY, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads((out / "config.json").read_text())["labels"] == HF_ORDER


def _ambiguous_softlabels(path):
    """Soft labels whose argmax is not always the gold label (as KWLS gives)."""
    data = _dataset(path.with_name("d.parquet"), n=8)
    table = pq.read_table(data)
    soft = np.tile([[0.7, 0.3], [0.2, 0.8]], (4, 1))  # in HF_ORDER: positive, negative
    soft[0] = [0.4, 0.6]  # a positive row that leans negative
    flat = pa.array(soft.astype(np.float32).reshape(-1))
    table = table.append_column("soft_label", pa.FixedSizeListArray.from_arrays(flat, 2))
    write_artifact(table, str(path), make_meta("softlabels", HF_ORDER))
    return path, soft


def test_roundtrip_without_proof_stops_with_one_line(cli, tmp_path):
    soft, _ = _ambiguous_softlabels(tmp_path / "soft.parquet")
    rt = _pandas_roundtrip(soft, tmp_path / "rt.parquet")
    out = tmp_path / "run"
    r = cli("train", rt, "-o", out, "--loss", "soft", *TINY)
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), r.stderr
    assert "label order" in lines[0] and "--labels" in lines[0]
    assert not out.exists()


def test_labels_option_restores_the_order(tmp_path):
    soft, matrix = _ambiguous_softlabels(tmp_path / "soft.parquet")
    rt = _pandas_roundtrip(soft, tmp_path / "rt.parquet")
    loaded = _load(rt, labels=HF_ORDER, dev_split=0.5)
    assert loaded.labels == HF_ORDER
    table = pq.read_table(rt)
    texts = table.column("text").to_pylist()
    for text, target in zip(loaded.train.texts, loaded.train.targets, strict=True):
        np.testing.assert_allclose(target, matrix[texts.index(text)], atol=1e-6)


def test_labels_option_that_contradicts_the_metadata_is_refused(tmp_path):
    from lsctl.errors import LsctlError

    soft, _ = _ambiguous_softlabels(tmp_path / "soft.parquet")
    with pytest.raises(LsctlError, match="contradicts the file's own label order"):
        _load(soft, labels=["negative", "positive"], dev_split=0.5)


@pytest.mark.parametrize(
    ("value", "message"),
    [("a", "give the label names"), ("a,,b", "give the label names"), ("a,b,a", "'a' appears")],
)
def test_bad_labels_option_is_a_usage_error(cli, tmp_path, value, message):
    data = _dataset(tmp_path / "data.parquet")
    r = cli("train", data, "-o", tmp_path / "run", "--labels", value, *TINY)
    assert r.exit_code == 2 and message in r.stderr, r.stderr


# -- compare on prediction files made by other code ------------------------------


def _foreign_preds(path, probs, gold, labels, pred=False):
    """id, label, probs as someone's own pandas code writes them (no lsctl metadata)."""
    df = pd.DataFrame({"id": np.arange(len(gold)), "label": gold, "probs": list(probs)})
    if pred:
        df["pred"] = [labels[i] for i in probs.argmax(axis=1)]
    df.to_parquet(path)
    return path


def _systems(n=200, seed=0):
    rng = np.random.default_rng(seed)
    labels = ["pos", "neg"]  # the order the user's model emits
    y = rng.integers(0, 2, n)
    gold = [labels[i] for i in y]
    out = {}
    for name, acc in (("a", 0.9), ("b", 0.6)):
        right = rng.random(n) < acc
        top = np.where(right, y, 1 - y)
        p = np.full((n, 2), 0.2)
        p[np.arange(n), top] = 0.8
        out[name] = (p, float(np.mean(top == y)))
    return labels, gold, out


def test_compare_accepts_foreign_files_with_labels(cli, tmp_path):
    labels, gold, systems = _systems()
    files = [
        _foreign_preds(tmp_path / f"{s}.parquet", p, gold, labels) for s, (p, _) in systems.items()
    ]
    r = cli("compare", *files, "--rounds", "200", "--json")
    assert r.exit_code == 1 and "--labels" in r.stderr and len(r.stderr.strip().splitlines()) == 1

    r = cli("compare", *files, "--rounds", "200", "--json", "--labels", ",".join(labels))
    assert r.exit_code == 0, r.stderr
    row = json.loads(r.stdout)["rows"][0]
    means = {row["system"]: row["mean"], row["baseline"]: row["baseline_mean"]}
    assert means == pytest.approx({s: acc for s, (_, acc) in systems.items()})

    # The sorted order would flip every prediction: accuracy becomes 1 - acc.
    r = cli("compare", *files, "--rounds", "200", "--json", "--labels", "neg,pos")
    assert r.exit_code == 0, r.stderr
    row = json.loads(r.stdout)["rows"][0]
    assert row["mean"] == pytest.approx(1 - systems[row["system"]][1])


def test_compare_proves_the_order_from_a_pred_column(cli, tmp_path):
    labels, gold, systems = _systems(seed=1)
    files = [
        _foreign_preds(tmp_path / f"{s}.parquet", p, gold, labels, pred=True)
        for s, (p, _) in systems.items()
    ]
    r = cli("compare", *files, "--rounds", "200", "--json")
    assert r.exit_code == 0, r.stderr
    row = json.loads(r.stdout)["rows"][0]
    assert row["mean"] == pytest.approx(systems[row["system"]][1])
    assert row["baseline_mean"] == pytest.approx(systems[row["baseline"]][1])


def test_compare_without_output_prints_the_table(cli, tmp_path):
    labels, gold, systems = _systems(seed=2)
    files = [
        _foreign_preds(tmp_path / f"{s}.parquet", p, gold, labels, pred=True)
        for s, (p, _) in systems.items()
    ]
    r = cli("compare", *files, "--rounds", "200")
    assert r.exit_code == 0, r.stderr
    assert "verdict" in r.stderr and r.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.parquet", "b.parquet"]


# -- teachers and keywords from elsewhere ---------------------------------------


def test_distill_from_another_toolkits_probs(cli, tmp_path):
    """A teacher file with id and probs only: --teacher-labels says the order."""
    data = _dataset(tmp_path / "data.parquet", n=10)
    rng = np.random.default_rng(4)
    teacher_order = ["negative", "positive"]  # the teacher's own order, not DATA's
    probs = rng.dirichlet([1.0, 1.0], 10)
    teacher = tmp_path / "teacher.parquet"
    pd.DataFrame({"id": np.arange(10), "probs": list(probs)}).to_parquet(teacher)
    args = ["softlabel", data, "--method", "distill", "--teacher", teacher, "--temperature", "2"]
    r = cli(*args, "-o", tmp_path / "x.parquet")
    assert r.exit_code == 1 and "--teacher-labels" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    out = tmp_path / "soft.parquet"
    r = cli(*args, "-o", out, "--teacher-labels", ",".join(teacher_order), "-q")
    assert r.exit_code == 0, r.stderr
    table, reader = read_artifact(str(out))
    assert reader.labels == HF_ORDER
    # softmax(log p / T) = p^(1/T) / sum, by hand, then put in DATA's order.
    sharpened = probs ** (1 / 2)
    sharpened /= sharpened.sum(axis=1, keepdims=True)
    want = sharpened[:, [teacher_order.index(lab) for lab in HF_ORDER]]
    np.testing.assert_allclose(_soft(table), want, atol=1e-6)


def test_keywords_rewritten_by_pandas_get_a_clear_error(cli, tmp_path):
    data = _dataset(tmp_path / "data.parquet")
    kw = tmp_path / "kw.parquet"
    assert cli("keywords", data, "-o", kw, "-q").exit_code == 0
    rt = _pandas_roundtrip(kw, tmp_path / "kw-rt.parquet")
    r = cli("softlabel", data, "--keywords", rt, "-o", tmp_path / "s.parquet")
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1
    assert "without its lsctl metadata" in r.stderr and "lsctl keywords" in r.stderr


def test_compare_name_groups_foreign_files_into_seeded_systems(cli, tmp_path):
    labels, gold, _ = _systems(seed=5)
    rng = np.random.default_rng(6)
    y = np.array([labels.index(g) for g in gold])
    files, acc = [], {"a": [], "b": []}
    for name, p_right in (("a", 0.85), ("b", 0.65)):
        for seed in (1, 2):
            top = np.where(rng.random(len(y)) < p_right, y, 1 - y)
            p = np.full((len(y), 2), 0.3)
            p[np.arange(len(y)), top] = 0.7
            acc[name].append(float(np.mean(top == y)))
            files.append(_foreign_preds(tmp_path / f"{name}-{seed}.parquet", p, gold, labels, True))
    base = ["compare", *files, "--rounds", "200", "--json"]
    r = cli(*base)
    assert r.exit_code == 0, r.stderr
    assert len(json.loads(r.stdout)["rows"]) == 6  # four one-file systems, every pair

    r = cli(*base, "--name", "a-*.parquet=sysA", "--name", "b-*=sysB", "--baseline", "sysA")
    assert r.exit_code == 0, r.stderr
    (row,) = json.loads(r.stdout)["rows"]
    assert (row["system"], row["baseline"]) == ("sysB", "sysA")
    assert row["mean"] == pytest.approx(np.mean(acc["b"]))
    assert row["baseline_mean"] == pytest.approx(np.mean(acc["a"]))
    assert row["p_ttest"] is not None  # seeds 1, 2 given in order, paired across systems

    r = cli(*base, "--name", "no-equals-sign")
    assert r.exit_code == 2 and "--name" in r.stderr


def test_roundtrip_kwls_is_proved_by_soft_argmax(cli, tmp_path):
    """KWLS targets often favour another class than the gold one: `label` proves
    nothing, the soft_argmax column that softlabel writes does."""
    data = _dataset(tmp_path / "data.parquet", n=60, seed=3)
    soft = tmp_path / "kwls.parquet"
    r = cli("softlabel", data, "-o", soft, "--method", "kwls", "-q")
    assert r.exit_code == 0, r.stderr
    original, _ = read_artifact(str(soft))
    matrix = _soft(original)
    gold = original.column("label").to_pylist()
    assert any(HF_ORDER[i] != g for i, g in zip(matrix.argmax(axis=1), gold, strict=True))
    rt = _pandas_roundtrip(soft, tmp_path / "rt.parquet")
    loaded = _load(rt, dev_split=0.5)
    assert loaded.labels == HF_ORDER
    texts = original.column("text").to_pylist()
    for text, target in zip(loaded.train.texts, loaded.train.targets, strict=True):
        np.testing.assert_allclose(target, matrix[texts.index(text)], atol=1e-6)

    # Without soft_argmax (dropped in the user's own code) the order is not proved.
    pd.read_parquet(rt).drop(columns=["soft_argmax"]).to_parquet(tmp_path / "bare.parquet")
    r = cli("train", tmp_path / "bare.parquet", "-o", tmp_path / "run", "--loss", "aux", *TINY)
    assert r.exit_code == 1 and "--labels" in r.stderr
