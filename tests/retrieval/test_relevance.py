"""Soft targets over candidates against a hand computation; no test-fold word is fitted."""

from __future__ import annotations

import math
import re

import numpy as np
import pyarrow as pa
import pytest

from lsctl.retrieval.relevance import CandidateRelevance

SENTS = ["paris is the capital of france", "the cat sat on the mat", "paris paris is big"]
QUESTIONS = ["what is the capital of france", "where is the cat", "is paris big"]


def _tok(t):
    return re.findall(r"\w+", t.lower())


def _hand_targets(variant, k1=2.0, b=0.75, k2=2.0):
    """The KWLS equations written out with loops, each sentence its own class."""
    docs = [_tok(s) for s in SENTS]
    qs = [_tok(q) for q in QUESTIONS]
    p = len(docs)
    s_avg = sum(len(d) for d in docs) / p
    x_avg = sum(len(q) for q in qs) / len(qs)
    out = []
    for q in qs:
        ilr = []
        for d in docs:
            total = 0.0
            for w in set(q):
                f = d.count(w)
                if f == 0:
                    continue
                if variant == "kwls":
                    wlc = f * k1 / (f + k1 * (1 - b + b * len(d) / s_avg))
                else:
                    wlc = f / len(d)
                wlw = math.log(p / sum(1 for dd in docs if w in dd)) + 1
                df = sum(1 for qq in qs if w in qq)
                wiw = math.log(len(qs) / df) + 1
                fq = q.count(w)
                wir = (fq * k2 / (fq + k2) if variant == "kwls" else fq) * wiw
                total += wlc * wlw * wir
            ilr.append(total / x_avg)
        m = max(ilr)
        e = [math.exp(x - m) for x in ilr]
        out.append([x / sum(e) for x in e])
    return out


@pytest.mark.parametrize("variant", ["kwls", "tfidf"])
def test_targets_match_hand_softmax_of_relevance(variant):
    rel = CandidateRelevance(pa.array(SENTS), pa.array(QUESTIONS), variant)
    got = rel.targets(np.arange(3), np.arange(3))
    np.testing.assert_allclose(got, _hand_targets(variant), rtol=1e-12)
    # A subset and a reordering of candidates: the softmax over those columns only.
    sub = rel.targets(np.array([2, 0]), np.array([2, 0]))
    hand = np.array(_hand_targets(variant))
    want = hand[[2, 0]][:, [2, 0]]
    want /= want.sum(axis=1, keepdims=True)  # a softmax restricted to some columns
    np.testing.assert_allclose(sub, want, rtol=1e-10)


def test_parameters_take_effect():
    a = CandidateRelevance(pa.array(SENTS), pa.array(QUESTIONS), "kwls", k1=1.0, b=0.0, k2=5.0)
    np.testing.assert_allclose(
        a.targets(np.arange(3), np.arange(3)), _hand_targets("kwls", 1.0, 0.0, 5.0), rtol=1e-12
    )
