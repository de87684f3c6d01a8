"""LS-TFIDF, the KWLS paper's baseline: the KWLS pipeline without BM25 saturation.

WLC(w,m) = f(w,m) / S_m and WIC(w,i) = f(w,i); WLW, WIW, ILR and
softmax(ILR / X_avg) are exactly as in KWLS (see :mod:`lsctl.smoothing.relevance`);
the method shares :class:`lsctl.smoothing.kwls.RelevanceMethod`.
"""

from __future__ import annotations

from lsctl.smoothing.kwls import COMMON, RelevanceMethod


class TFIDF(RelevanceMethod):
    name = "tfidf"
    help = "LS-TFIDF: WLC = f/S_m, WIC = f, same IDF weights and softmax(ILR/X_avg)"
    variant = "tfidf"
    options = COMMON  # no BM25 saturation: k1, b and k2 do not apply
