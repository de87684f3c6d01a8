"""`lsctl retrieve bm25` and `lsctl retrieve eval` end to end on the toy corpus."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "retrieval"))
from retrieval_kit import QUESTIONS, SENTENCES, bm25_plain, write_toy

from lsctl.artifacts import read_artifact


def _hand_ranks(scores, gold_cols):
    """Rank of the first gold in a stable descending sort, by a plain loop."""
    out = []
    for row, golds in zip(scores, gold_cols, strict=True):
        order = sorted(range(len(row)), key=lambda j: (-row[j], j))
        out.append(1 + min(order.index(g) for g in golds))
    return out


def test_bm25_whole_pool_options_take_effect(cli, tmp_path):
    q, s = write_toy(tmp_path)
    out = tmp_path / "r.parquet"
    res = cli(
        "retrieve", "bm25", "--questions", q, "--sentences", s, "--fold", "all",
        "--pool", "all", "--k1", "2.0", "--b", "0.3", "--top-k", "2", "--name", "lexical",
        "-o", out, "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    summary = json.loads(res.stdout)
    docs = [r[1] for r in SENTENCES]
    plain = bm25_plain([r[1] for r in QUESTIONS], docs, 2.0, 0.3)
    golds = [[j for j, d in enumerate(docs) if d == docs[int(r[2][1])]] for r in QUESTIONS]
    want = _hand_ranks(plain, golds)
    table, reader = read_artifact(str(out))
    assert table.column("rank").to_pylist() == want
    assert summary["mrr"] == pytest.approx(np.mean([1 / r for r in want]))
    assert summary["recall@1"] == pytest.approx(np.mean([r <= 1 for r in want]))
    meta = reader.meta
    assert (meta["kind"], meta["pool"], meta["fold"], meta["name"]) == (
        "ranked", "all", "all", "lexical",
    )  # fmt: skip
    assert (meta["params"]["k1"], meta["params"]["b"], meta["pool_size"]) == (2.0, 0.3, 6)
    tops = table.column("top_scores").to_pylist()
    assert all(len(t) == 2 for t in tops)
    np.testing.assert_allclose(tops[0], sorted(plain[0], reverse=True)[:2], rtol=1e-6)


def test_bm25_fold_pool_and_eval(cli, tmp_path):
    q, s = write_toy(tmp_path)
    out = tmp_path / "fold.parquet"
    res = cli(
        "retrieve", "bm25", "--questions", q, "--sentences", s, "--fold", "test",
        "--pool", "fold", "-o", out, "--quiet",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert res.stderr == ""
    table = pq.read_table(out)
    assert table.column("qid").to_pylist() == ["q1", "q3"]
    pool = {"s2", "s3", "s4"}
    assert all(set(t) <= pool for t in table.column("top_ids").to_pylist())
    res = cli("retrieve", "eval", out, "--json")
    assert res.exit_code == 0, res.stderr
    ev = json.loads(res.stdout)
    assert (ev["pool"], ev["fold"], ev["pool_size"], ev["n"]) == ("fold", "test", 3, 2)
    ranks = table.column("rank").to_pylist()
    assert ev["recall@1"] == pytest.approx(np.mean([r == 1 for r in ranks]))
    res = cli("retrieve", "eval", out)
    assert res.exit_code == 0
    assert "fold (3)" in res.stderr and "pool" in res.stderr
    whole = tmp_path / "whole.parquet"
    assert cli("retrieve", "bm25", "--questions", q, "--sentences", s, "--fold", "test",
               "-o", whole, "-q").exit_code == 0  # fmt: skip
    both = json.loads(cli("retrieve", "eval", out, whole, "--json").stdout)
    assert [(r["pool"], r["pool_size"]) for r in both] == [("fold", 3), ("all", 6)]
    # A smaller pool can only move the gold up: ranks never grow.
    r_all = pq.read_table(whole).column("rank").to_pylist()
    assert all(a <= b for a, b in zip(ranks, r_all, strict=True))


def test_eval_quiet_prints_nothing(cli, tmp_path):
    q, s = write_toy(tmp_path)
    out = tmp_path / "r.parquet"
    assert cli("retrieve", "bm25", "--questions", q, "--sentences", s, "--fold", "all",
               "-o", out, "-q").exit_code == 0  # fmt: skip
    res = cli("retrieve", "eval", out, "--quiet")
    assert res.exit_code == 0 and res.stdout == "" and res.stderr == ""


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--pool", "nearby"], 2, "--pool"),
        (["--k1", "0"], 2, "--k1"),
        (["--pool", "fold", "--fold", "all"], 2, "--pool fold ranks within the questions' own"),
        (["--name", ""], 2, "--name is empty"),
        (["--k1", "1e300"], 2, "--k1 1e+300 is outside (0, 1e+12]"),
        (["--b", "1.5"], 2, "--b"),
        (["--top-k", "0"], 2, "--top-k"),
        (["--fold", "holdout"], 1, "no row of fold 'holdout'"),
    ],
)
def test_bm25_bad_options(cli, tmp_path, args, code, needle):
    q, s = write_toy(tmp_path)
    res = cli("retrieve", "bm25", "--questions", q, "--sentences", s, "-o",
              tmp_path / "x.parquet", *args)  # fmt: skip
    assert res.exit_code == code
    assert res.stderr.startswith("Error: ") and needle in res.stderr
    assert res.stderr.count("\n") == 1
    assert not (tmp_path / "x.parquet").exists()


def test_gold_outside_fold_pool_is_an_error(cli, tmp_path):
    import pyarrow as pa

    q, s = write_toy(tmp_path)
    t = pq.read_table(q)
    t = t.set_column(3, "fold", pa.array(["test"] * 5))  # q0's gold s0 is a train sentence
    pq.write_table(t, q)
    res = cli("retrieve", "bm25", "--questions", q, "--sentences", s, "--pool", "fold",
              "-o", tmp_path / "x.parquet")  # fmt: skip
    assert res.exit_code == 1
    assert "outside the pool" in res.stderr


def test_eval_refuses_classification_predictions(cli, tmp_path):
    import pyarrow as pa

    from lsctl.artifacts import make_meta, write_artifact

    p = tmp_path / "p.parquet"
    write_artifact(pa.table({"qid": ["a"], "rank": [1]}), str(p), make_meta("predictions", ["x"]))
    res = cli("retrieve", "eval", p)
    assert res.exit_code == 1 and "not ranked" in res.stderr


# ---------------------------------------------------------------------------
# retrieve train / predict (tiny fastText towers on a synthetic corpus)

from retrieval_kit import write_folds  # noqa: E402

TINY = ("--epochs", "2", "--embed-dim", "8", "--batch-size", "16")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reqa")
    return write_folds(folder), folder


@pytest.fixture(scope="module")
def base_run(toy):
    from typer.testing import CliRunner

    from lsctl.cli.app import app

    (q, s), folder = toy
    run = folder / "base"
    res = CliRunner().invoke(
        app,
        ["retrieve", "train", "--questions", q, "--sentences", s, "-o", str(run), *TINY,
         "--seed", "3", "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    return run, json.loads(res.stdout)


def _metrics(run):
    return pq.read_table(run / "metrics.parquet").to_pylist()


def _train(cli, toy, name, *args):
    (q, s), folder = toy
    run = folder / name
    res = cli("retrieve", "train", "--questions", q, "--sentences", s, "-o", run, "-q", *args)
    assert res.exit_code == 0, res.stderr
    assert res.stderr == ""
    return run, json.loads((run / "config.json").read_text())


def test_train_selects_the_best_dev_epoch(base_run):
    run, summary = base_run
    rows = _metrics(run)
    assert [r["epoch"] for r in rows] == [1, 2]
    best = max(rows, key=lambda r: (r["dev_mrr"], -r["epoch"]))
    assert summary["selected_epoch"] == best["epoch"]
    assert [r["selected"] for r in rows] == [r["epoch"] == best["epoch"] for r in rows]
    assert summary["dev_mrr"] == pytest.approx(best["dev_mrr"])
    config = json.loads((run / "config.json").read_text())
    assert config["status"] == "finished" and config["options"]["seed"] == 3
    assert (summary["train_questions"], summary["dev_questions"], summary["dev_pool"]) == (
        48,
        16,
        8,
    )


def _encodings(run, texts_q, texts_s):
    """Tower outputs by hand: the saved weights in a fresh model, in eval mode."""
    import torch

    from lsctl.retrieval.dual import load_run
    from lsctl.train.features import batch

    model, enc, config = load_run(str(run))
    out = []
    for texts, tower in ((texts_q, model.q_tower), (texts_s, model.s_tower or model.q_tower)):
        ids, lens = enc(texts)
        with torch.no_grad():
            out.append(tower(*batch(ids, lens, torch.arange(len(texts)))).double().numpy())
    return out[0], out[1], config["options"]


def test_predict_ranks_equal_a_hand_recomputation(cli, toy, base_run):
    (q, s), folder = toy
    run, _ = base_run
    out = folder / "pred.parquet"
    res = cli("retrieve", "predict", run, "--questions", q, "--sentences", s, "--pool", "fold",
              "--fold", "test", "--top-k", "3", "--name", "ft", "-o", out, "--json")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    summary = json.loads(res.stdout)
    table, reader = read_artifact(str(out))
    assert (reader.meta["name"], reader.meta["seed"], reader.meta["pool"]) == ("ft", 3, "fold")
    qt, st = pq.read_table(q).to_pylist(), pq.read_table(s).to_pylist()
    tq = [r for r in qt if r["fold"] == "test"]
    ts = [r for r in st if r["fold"] == "test"]
    qv, sv, opts = _encodings(run, [r["question"] for r in tq], [r["sentence"] for r in ts])
    qv /= np.linalg.norm(qv, axis=1, keepdims=True)  # cos is the default score
    sv /= np.linalg.norm(sv, axis=1, keepdims=True)
    scores = qv @ sv.T / opts["temperature"]
    ids = [r["sentence_id"] for r in ts]
    golds = [[ids.index(r["sentence_id"])] for r in tq]
    want = _hand_ranks(scores, golds)
    assert table.column("rank").to_pylist() == want
    assert summary["mrr"] == pytest.approx(np.mean([1 / r for r in want]))
    top = table.column("top_scores").to_pylist()
    np.testing.assert_allclose(top[0], sorted(scores[0], reverse=True)[:3], rtol=1e-4, atol=1e-4)
    res = cli("retrieve", "predict", run, "--questions", q, "--sentences", s, "-o",
              folder / "p2.parquet", "--quiet")  # fmt: skip
    assert res.exit_code == 0 and res.stderr == ""
    meta = read_artifact(str(folder / "p2.parquet"))[1].meta
    assert (meta["pool"], meta["fold"], meta["pool_size"], meta["name"]) == (
        "all",
        "test",
        40,
        "base",
    )


def test_dot_score_temperature_and_separate_towers(cli, toy):
    run, config = _train(cli, toy, "dot", *TINY, "--score", "dot", "--temperature", "2.0",
                         "--separate-towers")  # fmt: skip
    assert (config["options"]["score"], config["options"]["temperature"]) == ("dot", 2.0)
    from safetensors.torch import load_file

    keys = load_file(run / "model.safetensors").keys()
    assert any(k.startswith("s_tower.") for k in keys)
    (q, s), folder = toy
    out = folder / "dot.parquet"
    assert cli("retrieve", "predict", run, "--questions", q, "--sentences", s, "--pool",
               "fold", "-o", out, "-q").exit_code == 0  # fmt: skip
    ts = [r for r in pq.read_table(s).to_pylist() if r["fold"] == "test"]
    tq = [r for r in pq.read_table(q).to_pylist() if r["fold"] == "test"]
    qv, sv, _ = _encodings(run, [r["question"] for r in tq], [r["sentence"] for r in ts])
    top = pq.read_table(out).column("top_scores").to_pylist()
    np.testing.assert_allclose(top[0][0], (qv[0] @ sv.T).max() / 2.0, rtol=1e-4)


def test_lstm_hidden_and_embed_dim_shape_the_weights(cli, toy):
    run, config = _train(cli, toy, "lstm", "--encoder", "lstm", "--hidden", "6",
                         "--embed-dim", "4", "--epochs", "1", "--device", "cpu")  # fmt: skip
    from safetensors.torch import load_file

    w = load_file(run / "model.safetensors")
    assert tuple(w["q_tower.net.lstm.weight_hh_l0"].shape) == (24, 6)
    assert tuple(w["q_tower.net.embedding.weight"].shape)[1] == 4
    assert (config["options"]["encoder"], config["options"]["device"]) == ("lstm", "cpu")
    (q, s), folder = toy
    res = cli("retrieve", "predict", run, "--questions", q, "--sentences", s, "--device", "tpu",
              "-o", folder / "x.parquet")  # fmt: skip
    assert res.exit_code == 2 and "--device" in res.stderr
    res = cli("retrieve", "predict", run, "--questions", q, "--sentences", s, "--device", "cpu",
              "-o", folder / "lstm.parquet", "-q")  # fmt: skip
    assert res.exit_code == 0, res.stderr


def test_soft_target_options_take_effect(cli, toy, base_run):
    base = _metrics(base_run[0])
    runs = {
        "uniform": ("--targets", "uniform", "--label-smoothing", "0.3", "--loss", "soft"),
        "kwls": ("--targets", "kwls", "--alpha", "0.5", "--hard-negatives", "2"),
        "tfidf": ("--targets", "tfidf", "--loss", "soft", "--lr", "0.05"),
        "distill": ("--targets", "distill", "--teacher", str(base_run[0])),
    }
    losses = {}
    for name, args in runs.items():
        run, config = _train(cli, toy, f"t-{name}", *TINY, "--seed", "3", *args)
        o = config["options"]
        assert o["targets"] == name
        losses[name] = _metrics(run)[0]["train_loss"]
    assert o["teacher"] == str(base_run[0])
    assert config["relevance"] is None
    # Same seed, same batches: a different target (or loss) gives a different first loss.
    assert len({round(v, 6) for v in [*losses.values(), base[0]["train_loss"]]}) == 5
    # The uniform targets' soft loss is at least ε·mean log C above plain CE's floor: > 0.
    assert losses["uniform"] > 0


def test_same_seed_same_run(cli, toy, base_run):
    run, _ = _train(cli, toy, "again", *TINY, "--seed", "3")
    assert _metrics(run) == [
        {**r, "seconds": m["seconds"]}
        for r, m in zip(_metrics(base_run[0]), _metrics(run), strict=True)
    ]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--encoder", "gru"], 2, "--encoder"),
        (["--teacher", "x"], 2, "--teacher"),
        (["--targets", "kwls", "--loss", "ce"], 2, "--loss"),
        (["--hard-negatives", "-1"], 2, "--hard-negatives"),
        (["--batch-size", "1"], 2, "--batch-size"),
        (["--device", "tpu"], 2, "--device"),
        (["--temperature", "1e300"], 2, "--temperature must be at most 10000"),
        (["--targets", "kwls", "--alpha", "1e200"], 2, "--alpha must be at most 1e+06"),
    ],
)
def test_train_bad_options(cli, toy, tmp_path, args, code, needle):
    (q, s), _ = toy
    run = tmp_path / "nested" / "run"
    res = cli("retrieve", "train", "--questions", q, "--sentences", s, "-o", run, *args)
    assert res.exit_code == code, res.stderr
    assert res.stderr.startswith("Error: ") and needle in res.stderr
    assert not (tmp_path / "nested").exists()


def test_train_refuses_an_existing_run(cli, toy, base_run):
    (q, s), _ = toy
    res = cli("retrieve", "train", "--questions", q, "--sentences", s, "-o", base_run[0])
    assert res.exit_code == 1 and "already holds a run" in res.stderr


def _tiny_bert(d, texts):
    """A random 2-layer BERT and a word-level tokenizer over the toy corpus's words."""
    import re

    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = sorted({w for t in texts for w in re.findall(r"\w+", t.lower())})
    d.mkdir()
    (d / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]))
    BertTokenizerFast(vocab_file=str(d / "vocab.txt"), do_lower_case=True).save_pretrained(d)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(words) + 5, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=128,
    )  # fmt: skip
    BertModel(config).save_pretrained(d)
    return d


def test_hf_encoder_is_mean_pooled(cli, toy):
    import torch
    from transformers import AutoTokenizer

    (q, s), folder = toy
    st, qt = pq.read_table(s).to_pylist(), pq.read_table(q).to_pylist()
    bert = _tiny_bert(folder / "bert", [r["sentence"] for r in st] + [r["question"] for r in qt])
    run, config = _train(cli, toy, "hf", "--encoder", f"hf:{bert}", "--epochs", "1",
                         "--batch-size", "16")  # fmt: skip
    assert (config["options"]["lr"], config["options"]["encoder"]) == (2e-5, f"hf:{bert}")
    assert (run / "hf_model" / "config.json").exists()
    out = folder / "hf.parquet"
    assert cli("retrieve", "predict", run, "--questions", q, "--sentences", s, "--pool",
               "fold", "-o", out, "-q").exit_code == 0  # fmt: skip
    from lsctl.retrieval.dual import load_run

    model, _, _ = load_run(str(run))
    tok = AutoTokenizer.from_pretrained(bert)

    def pooled(texts):
        enc = tok(texts, padding=True, return_tensors="pt")
        with torch.no_grad():
            h = model.q_tower.hf(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(2).float()
        v = ((h * m).sum(1) / m.sum(1)).double().numpy()
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    tq = [r for r in qt if r["fold"] == "test"]
    ts = [r for r in st if r["fold"] == "test"]
    scores = pooled([r["question"] for r in tq]) @ pooled([r["sentence"] for r in ts]).T / 0.05
    ids = [r["sentence_id"] for r in ts]
    want = _hand_ranks(scores, [[ids.index(r["sentence_id"])] for r in tq])
    assert pq.read_table(out).column("rank").to_pylist() == want


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--label-smoothing", "0.3"], "--label-smoothing applies to --targets uniform"),
        (["--alpha", "5"], "--alpha applies to --loss aux"),
        (["--hidden", "8"], "--hidden applies to --encoder lstm"),
    ],
)
def test_train_refuses_options_the_run_would_not_read(cli, toy, args, needle):
    (q, s), folder = toy
    run = folder / "ignored"
    res = cli("retrieve", "train", "--questions", q, "--sentences", s, "-o", run, *args)
    assert res.exit_code == 2 and needle in res.stderr, res.stderr
    assert not run.exists()
