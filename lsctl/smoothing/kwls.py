"""Keyword-based label smoothing (Liu et al., COLING 2022); METHODS.md §1.

The equations (1)–(8) live in :mod:`lsctl.smoothing.relevance`; this module
is the ``kwls`` method and the ``instance_label_relevance`` helper used by
the noise models.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lsctl.smoothing.relevance import K1, K2, B, RelevanceMethod
from lsctl.text.tokenize import TokenizerSpec


def instance_label_relevance(
    texts: Any,
    y: np.ndarray,
    k: int,
    *,
    spec: TokenizerSpec = TokenizerSpec(),
    k1: float = K1,
    b: float = B,
    k2: float = K2,
) -> np.ndarray:
    """N×K ILR(i, m) = Σ_w WLR(w, m)·WIR(w, i), statistics fitted on the same texts.

    ``texts``: list of str or a pyarrow string array; ``y``: label indices in [0, k).
    """
    import pyarrow as pa

    from lsctl.smoothing.relevance import check_params, ilr_from_texts

    check_params(k1, b, k2)
    arr = texts if isinstance(texts, (pa.Array, pa.ChunkedArray)) else pa.array(texts, pa.string())
    return ilr_from_texts(arr, np.asarray(y, dtype=np.int64), k, spec, k1=k1, b=b, k2=k2)


class KWLS(RelevanceMethod):
    name = "kwls"
    help = "keyword-based soft labels (Liu et al. 2022); --k1 --b --k2, --keywords, --cross-fit"
    variant = "kwls"
