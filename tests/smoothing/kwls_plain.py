"""An independent, deliberately plain implementation of KWLS/TF-IDF (METHODS.md §1).

Dictionaries and math.log/exp only, written from the paper's equations; the
tests hold lsctl's vectorized code to it.
"""

from __future__ import annotations

import math
from collections import Counter


def soft_labels(
    train_tokens,
    train_labels,
    labels,
    apply_tokens=None,
    k1=2.0,
    b=0.75,
    k2=2.0,
    variant="kwls",
    min_count=1,
):
    """Soft labels of ``apply_tokens`` (default the training texts).

    ``min_count``: words seen fewer times in the training texts get no WLR;
    they still count in S_m, X_avg and the lengths (docs/softlabel.md).
    """
    apply_tokens = train_tokens if apply_tokens is None else apply_tokens
    p = len(labels)
    f = {m: Counter() for m in labels}
    for toks, lab in zip(train_tokens, train_labels, strict=True):
        f[lab].update(toks)
    s = {m: sum(f[m].values()) for m in labels}
    s_avg = sum(s.values()) / p
    df = Counter()
    for toks in train_tokens:
        df.update(set(toks))
    n = len(train_tokens)
    x_avg = sum(len(t) for t in train_tokens) / n

    def wlr(w, m):
        fw = f[m][w]
        if fw == 0 or sum(f[mm][w] for mm in labels) < min_count:
            return 0.0
        if variant == "kwls":
            wlc = fw * k1 / (fw + k1 * (1 - b + b * s[m] / s_avg))
        else:
            wlc = fw / s[m]
        n_m = sum(1 for mm in labels if f[mm][w] >= 1)
        return (math.log(p / n_m) + 1) * wlc

    out = []
    for toks in apply_tokens:
        counts = Counter(toks)
        ilr = []
        for m in labels:
            total = 0.0
            for w, fi in counts.items():
                if df[w] == 0:
                    continue
                wic = fi * k2 / (fi + k2) if variant == "kwls" else fi
                total += wlr(w, m) * (math.log(n / df[w]) + 1) * wic
            ilr.append(total / x_avg)
        top = max(ilr)
        e = [math.exp(z - top) for z in ilr]
        out.append([v / sum(e) for v in e])
    return out
