"""KWLS and TF-IDF: a hand-worked example, a plain reference, cross-fitting, overflow."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from kwls_plain import soft_labels

from lsctl.numeric import softmax
from lsctl.smoothing import registry
from lsctl.smoothing.base import Context
from lsctl.smoothing.relevance import fold_assignment, instance_label_relevance
from lsctl.text.tokenize import TokenizerSpec, tokenize

DOCS = ["a b a", "b c", "c c d"]
GOLD = ["pos", "neg", "neg"]
LABELS = ["neg", "pos"]


def _run(name, texts, gold, params, labels=None):
    table = pa.table({"text": pa.array(texts, pa.string()), "label": gold})
    labels = labels or sorted(set(gold))
    m = registry.get(name)()
    m.validate(params)
    ctx = Context.from_table(table, labels, params, batch_size=params.pop("_batch", 65_536))
    m.prepare(ctx)
    out = np.concatenate([m.targets(ctx, b, s) for s, b in ctx.batches()])
    m.finish(ctx)
    return out, ctx


def test_hand_worked_three_documents():
    # f(w,pos): a=2 b=1, S_pos=3; f(w,neg): b=1 c=3 d=1, S_neg=5; S_avg=4.
    norm_pos = 1 - 0.75 + 0.75 * 3 / 4
    norm_neg = 1 - 0.75 + 0.75 * 5 / 4
    wlc_a_pos = 2 * 2 / (2 + 2 * norm_pos)
    wlc_b_pos = 1 * 2 / (1 + 2 * norm_pos)
    wlc_b_neg = 1 * 2 / (1 + 2 * norm_neg)
    wlw_a, wlw_b = math.log(2 / 1) + 1, math.log(2 / 2) + 1
    # Document 0 "a b a": f(a)=2, f(b)=1; df(a)=1, df(b)=2, N=3.
    wir_a = (2 * 2 / (2 + 2)) * (math.log(3 / 1) + 1)
    wir_b = (1 * 2 / (1 + 2)) * (math.log(3 / 2) + 1)
    ilr_pos = wlw_a * wlc_a_pos * wir_a + wlw_b * wlc_b_pos * wir_b
    ilr_neg = wlw_b * wlc_b_neg * wir_b
    x_avg = 8 / 3
    p_pos = 1 / (1 + math.exp((ilr_neg - ilr_pos) / x_avg))

    ilr = instance_label_relevance(DOCS, np.array([1, 0, 0]), 2, spec=TokenizerSpec("whitespace"))
    np.testing.assert_allclose(ilr[0], [ilr_neg, ilr_pos], rtol=1e-12)
    d, _ = _run("kwls", DOCS, GOLD, {"tokenizer": "whitespace"})
    np.testing.assert_allclose(d[0], [1 - p_pos, p_pos], rtol=1e-12)
    np.testing.assert_allclose(
        d, soft_labels([t.split(" ") for t in DOCS], GOLD, LABELS), rtol=1e-12
    )


def test_hand_worked_tfidf():
    # WLC = f/S_m, WIC = f; same WLW, WIW.
    wlr_a_pos = (math.log(2) + 1) * 2 / 3
    wlr_b_pos, wlr_b_neg = 1 * 1 / 3, 1 * 1 / 5
    wiw_a, wiw_b = math.log(3) + 1, math.log(1.5) + 1
    ilr_pos = wlr_a_pos * wiw_a * 2 + wlr_b_pos * wiw_b * 1
    ilr_neg = wlr_b_neg * wiw_b * 1
    p_pos = 1 / (1 + math.exp((ilr_neg - ilr_pos) / (8 / 3)))
    d, _ = _run("tfidf", DOCS, GOLD, {"tokenizer": "whitespace"})
    np.testing.assert_allclose(d[0], [1 - p_pos, p_pos], rtol=1e-12)


CORPUS = [
    "The movie was great, great fun!",
    "Terrible plot; the acting was bad.",
    "great acting and a great plot",
    "bad bad bad  movie",
    "An okay film, neither great nor bad.",
    "Fun, fun, fun: the best movie of the year",
    "worst film ever, bad",
    "the plot was fine",
]
CORPUS_GOLD = ["pos", "neg", "pos", "neg", "neu", "pos", "neg", "neu"]


@pytest.mark.parametrize("variant", ["kwls", "tfidf"])
@pytest.mark.parametrize("tok", ["words", "whitespace"])
def test_matches_plain_reference(variant, tok):
    params = {"tokenizer": tok, "k1": 1.5, "b": 0.5, "k2": 3.0, "_batch": 3}
    d, ctx = _run(variant, CORPUS, CORPUS_GOLD, params)
    spec = TokenizerSpec(tok)
    kw = {"k1": 1.5, "b": 0.5, "k2": 3.0} if variant == "kwls" else {}
    want = soft_labels(
        tokenize(CORPUS, spec), CORPUS_GOLD, ["neg", "neu", "pos"], variant=variant, **kw
    )
    np.testing.assert_allclose(d, want, rtol=1e-12, atol=1e-15)
    assert ctx.info["statistics"].startswith("DATA itself")


@pytest.mark.parametrize("variant", ["kwls", "tfidf"])
def test_cross_fit_matches_reference_on_the_other_folds(variant):
    folds = 3
    d, ctx = _run(variant, CORPUS, CORPUS_GOLD, {"cross_fit": folds, "seed": 7, "_batch": 5})
    fold = fold_assignment(len(CORPUS), folds, 7)
    assert sorted(np.bincount(fold).tolist()) == [2, 3, 3]
    toks = tokenize(CORPUS, TokenizerSpec())
    for j in range(folds):
        train = [i for i in range(len(CORPUS)) if fold[i] != j]
        held = [i for i in range(len(CORPUS)) if fold[i] == j]
        want = soft_labels(
            [toks[i] for i in train],
            [CORPUS_GOLD[i] for i in train],
            ["neg", "neu", "pos"],
            apply_tokens=[toks[i] for i in held],
            variant=variant,
        )
        np.testing.assert_allclose(d[held], want, rtol=1e-12, atol=1e-15)
    assert "cross-fitted" in ctx.info["statistics"]


def test_cross_fit_never_uses_a_documents_own_fold():
    planted = list(CORPUS)
    planted[2] = CORPUS[2] + " zyzzyva zyzzyva"
    base, _ = _run("kwls", CORPUS, CORPUS_GOLD, {"cross_fit": 4, "seed": 1})
    with_word, _ = _run("kwls", planted, CORPUS_GOLD, {"cross_fit": 4, "seed": 1})
    np.testing.assert_array_equal(with_word[2], base[2])
    # In-sample, the same planted word does move the document's soft label.
    ins_base, _ = _run("kwls", CORPUS, CORPUS_GOLD, {})
    ins_word, _ = _run("kwls", planted, CORPUS_GOLD, {})
    assert np.abs(ins_word[2] - ins_base[2]).max() > 1e-3


def test_softmax_never_overflows():
    z = np.array([[1e4, 0.0, -1e4], [800.0, 800.0, 799.0], [0.0, 0.0, 0.0]])
    out = softmax(z)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[0], [1.0, 0.0, 0.0])
    e = np.exp([0.0, 0.0, -1.0])
    np.testing.assert_allclose(out[1], e / e.sum())
    np.testing.assert_allclose(out[2], [1 / 3] * 3)


def test_empty_and_unknown_documents_get_uniform_and_a_warning():
    texts = ["good good fun", "bad awful", "", None, "!!!"]
    gold = ["pos", "neg", "pos", "neg", "pos"]
    d, ctx = _run("kwls", texts, gold, {})
    np.testing.assert_allclose(d[2:], 0.5)
    assert any("3 documents have no tokens" in w for w in ctx.warnings)


def test_large_relevance_does_not_overflow():
    # Thousands of distinct class words in one text against a short X_avg push
    # ILR / X_avg far past float32's exp range (~88).
    texts = [" ".join(f"w{i}" for i in range(5000)), *["bad"] * 100]
    gold = ["pos"] + ["neg"] * 100
    ilr = instance_label_relevance(texts, np.array([1] + [0] * 100), 2)
    assert ilr[0, 1] / (5100 / 101) > 200
    d, _ = _run("kwls", texts, gold, {})
    assert np.isfinite(d.astype(np.float32)).all()
    np.testing.assert_allclose(d[0], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(d.sum(axis=1), 1.0)


@pytest.mark.parametrize("cross_fit", [None, 3])
def test_counts_past_the_memory_budget_spill_to_disk_and_match(monkeypatch, tmp_path, cross_fit):
    # With no memory budget every batch's counts go to a temporary folder and
    # are read back by the second pass; the targets must equal the reference
    # and the folder must be gone afterwards.
    import tempfile

    from lsctl.smoothing import relevance

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    params = {"tokenizer": "words", "_batch": 3}
    if cross_fit:
        params["cross_fit"] = cross_fit
    want, _ = _run("kwls", CORPUS, CORPUS_GOLD, dict(params))
    loads = []
    real_load = relevance.Spilled.load
    monkeypatch.setattr(relevance.Spilled, "load", lambda s: loads.append(1) or real_load(s))
    monkeypatch.setattr(relevance, "CACHE_BYTES", 0)
    got, _ = _run("kwls", CORPUS, CORPUS_GOLD, dict(params))
    assert len(loads) == -(-len(CORPUS) // 3)  # every batch came back from disk
    np.testing.assert_array_equal(got, want)
    if not cross_fit:
        spec = TokenizerSpec("words")
        ref = soft_labels(tokenize(CORPUS, spec), CORPUS_GOLD, ["neg", "neu", "pos"])
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
    assert not list(tmp_path.glob("lsctl-counts-*"))


def test_an_input_projected_past_the_budget_spills_from_its_first_batch(monkeypatch, tmp_path):
    # The first batch alone fits the budget, the whole input (known row count)
    # does not: holding that batch until the end would only raise the memory
    # high-water mark, so every batch goes to disk, and the targets are unchanged.
    import tempfile

    from lsctl.smoothing import relevance
    from lsctl.text.counts import Vocabulary, count_batch

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    want, _ = _run("kwls", CORPUS, CORPUS_GOLD, {"_batch": 3})
    first = count_batch(pa.array(CORPUS[:3]), Vocabulary(TokenizerSpec("words")))
    loads = []
    real_load = relevance.Spilled.load
    monkeypatch.setattr(relevance.Spilled, "load", lambda s: loads.append(1) or real_load(s))
    monkeypatch.setattr(relevance, "CACHE_BYTES", first.nnz * 8)
    got, _ = _run("kwls", CORPUS, CORPUS_GOLD, {"_batch": 3})
    assert len(loads) == -(-len(CORPUS) // 3)
    np.testing.assert_array_equal(got, want)
    # A budget the whole input fits keeps every batch in memory.
    loads.clear()
    monkeypatch.setattr(relevance, "CACHE_BYTES", 10 * first.nnz * 8)
    got, _ = _run("kwls", CORPUS, CORPUS_GOLD, {"_batch": 3})
    assert loads == []
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("known_rows", [True, False])
def test_context_holds_no_batch_of_an_input_projected_past_its_budget(monkeypatch, known_rows):
    # With the row count known, a first batch that fits while the projected
    # whole does not is never held; a stream (row count unknown) holds batches
    # until the budget is crossed. Either way the second pass re-reads.
    import weakref

    from lsctl.smoothing import base

    def source():  # each batch made as it is read, as from a file
        for i in range(3):
            yield pa.record_batch(
                {"id": [3 * i, 3 * i + 1, 3 * i + 2], "text": ["a b"] * 3, "label": ["x"] * 3}
            )

    ctx = Context(["x"], {}, source, num_rows=9 if known_rows else None)
    # Two of the three batches fit.
    size = next(source()).nbytes
    monkeypatch.setattr(base, "HOLD_BYTES", 2 * size + 1)
    it = ctx.batches()
    _, first = next(it)
    assert first.nbytes == size
    ref = weakref.ref(first)
    del first
    next(it)
    assert (ref() is None) is known_rows  # a stream's first batch is held for now
    assert [b.num_rows for _, b in it] == [3]
    assert ref() is None and ctx._held is None


def test_nearly_uniform_targets_are_warned_about_and_separable_ones_are_not():
    from lsctl.smoothing.run import FLAT_SHARE, softlabel

    # Long texts that share almost every word: KWLS's vectors come out flat.
    rng = np.random.default_rng(0)
    common = [f"w{i}" for i in range(200)]
    texts = [" ".join(rng.choice(common, 150)) + (" good" if i % 2 else " bad") for i in range(60)]
    gold = ["pos" if i % 2 else "neg" for i in range(60)]
    flat = softlabel(pa.table({"text": texts, "label": gold}), None, "kwls", {})
    share = flat.summary["mean_entropy"] / math.log(2)
    assert share > FLAT_SHARE
    assert any("the kwls soft labels are nearly uniform" in w for w in flat.warnings), flat.warnings
    # Short texts with one word per class: sharp vectors, no warning.
    sharp = softlabel(pa.table({"text": ["good film", "bad film"] * 30, "label": ["pos", "neg"] * 30}),
                      None, "kwls", {})  # fmt: skip
    assert sharp.summary["mean_entropy"] / math.log(2) <= FLAT_SHARE
    assert not any("nearly uniform" in w for w in sharp.warnings)
    # Uniform smoothing's spread is the user's choice: never warned about.
    chosen = softlabel(pa.table({"text": texts, "label": gold}), None, "uniform", {"epsilon": 0.9})
    assert not any("nearly uniform" in w for w in chosen.warnings)
