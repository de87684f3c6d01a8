"""Soft labels, keyword statistics, noise and sampling on plain sequences and arrays.

Each function takes ``labels`` as any sequence of hashable values (strings,
integers, a NumPy array, a pandas Series) and returns results in a fixed
label order: ``label_order`` when given, else the sorted distinct labels.
They run the same core as the commands, so ``kwls(texts, labels)`` equals
``lsctl softlabel --method kwls`` on the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from lsctl.api import one_command, warn_user
from lsctl.smoothing.relevance import K1, K2, B
from lsctl.validation import ParameterError, check_sequence, literal


def _codes(labels: Any, label_order: Sequence[Any] | None) -> tuple[np.ndarray, list[Any]]:
    """(int64 indices into the order, the order) for ``labels``."""
    if isinstance(labels, (pa.Array, pa.ChunkedArray)):
        labels = labels.to_pylist()
    check_sequence("labels", labels, "one label per row")
    if getattr(labels, "ndim", 1) != 1:
        raise ParameterError(
            f"{{labels:n}} must be one label per row, not an array of shape {labels.shape}; "
            "for one-hot or probability rows pass their argmax",
            labels=None,
        )
    # NumPy scalars as Python values: the order prints as [0, 1], not [np.int64(0), …].
    values = [v.item() if isinstance(v, np.generic) else v for v in labels]
    if not values:
        raise ParameterError("{labels:n} is empty", labels=None)
    missing = next((i for i, v in enumerate(values) if _is_missing(v)), None)
    if missing is not None:
        # None or NaN (NaN != NaN) is a missing label, not a class of its own.
        raise ParameterError(
            f"{{labels:n}}[{missing}] is missing ({_literal(values[missing])}); drop or fill it",
            labels=None,
        )
    if label_order is None:
        try:
            order = sorted(set(values))
        except TypeError:
            raise ParameterError(
                "{labels:n} mixes types that do not sort; give {label_order:n}",
                labels=None,
                label_order=None,
            ) from None
    else:
        if isinstance(label_order, (pa.Array, pa.ChunkedArray)):
            label_order = label_order.to_pylist()
        check_sequence("label_order", label_order, "the K labels in order")
        order = [v.item() if isinstance(v, np.generic) else v for v in label_order]
        if len({str(v) for v in order}) != len(order):
            raise ParameterError("{label_order} repeats a label", label_order=order)
    index = {v: i for i, v in enumerate(order)}
    try:
        y = np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))
    except KeyError as e:
        raise ParameterError(
            f"{{labels:n}} holds {_literal(e.args[0])}, which is not in {{label_order}}",
            labels=None,
            label_order=order,
        ) from None
    return y, order


def _is_missing(value: Any) -> bool:
    """None, NaN, pandas' NA or NaT: a missing label, not a class of its own."""
    if value is None:
        return True
    try:
        return bool(value != value)  # only NaN-like values differ from themselves
    except TypeError:
        return True  # pd.NA: its comparisons are NA, whose truth is ambiguous


def _pair(pair: Any) -> tuple[str, str]:
    """A (source, target) pair of label names; "SOURCE:TARGET" as on the command line."""
    if isinstance(pair, str):
        source, sep, target = pair.rpartition(":")
        if sep and source and target:
            return source, target
    elif isinstance(pair, Sequence) and len(pair) == 2:
        return str(pair[0]), str(pair[1])
    raise ParameterError(
        f"{{pairs:n}} holds {_literal(pair)}; give (source, target) tuples or 'SOURCE:TARGET' strings",
        pairs=None,
    )


def _literal(value: Any) -> str:
    """``repr(value)`` safe inside a ParameterError template."""
    return literal(repr(value))


def _table(texts: Any, y: np.ndarray, order: list[Any]) -> tuple[pa.Table, list[str]]:
    names = [str(v) for v in order]
    cols: dict[str, Any] = {"label": pa.array(np.asarray(names, dtype=object)[y], pa.string())}
    if texts is not None:
        if not isinstance(texts, (pa.Array, pa.ChunkedArray)):
            check_sequence("texts", texts, "one text per row")
        arr = texts if isinstance(texts, (pa.Array, pa.ChunkedArray)) else list(texts)
        if len(arr) != len(y):
            raise ParameterError(
                f"{{texts:n}} has {len(arr)} items but {{labels:n}} has {len(y)}",
                texts=None,
                labels=None,
            )
        if not isinstance(arr, (pa.Array, pa.ChunkedArray)):
            bad = next((i for i, t in enumerate(arr) if not isinstance(t, str)), None)
            if bad is not None:
                raise ParameterError(
                    f"{{texts:n}}[{bad}] is {type(arr[bad]).__name__} {_literal(arr[bad])}; "
                    "texts are strings",
                    texts=None,
                )
            blank = next((i for i, t in enumerate(arr) if not t.strip()), None)
            if blank is not None:
                raise ParameterError(
                    f"{{texts:n}}[{blank}] is {'empty' if not arr[blank] else 'blank'}; "
                    "every text needs a word (drop the row or fill it)",
                    texts=None,
                )
            arr = pa.array(arr, pa.string())
        cols = {"text": arr, **cols}
    return pa.table(cols), names


def _probs(method: str, texts: Any, labels: Any, label_order: Any, params: dict[str, Any]):
    from lsctl.smoothing import registry
    from lsctl.smoothing.run import softlabel

    if registry.get(method).needs_text:
        check_sequence("texts", texts, "one text per row")
    y, order = _codes(labels, label_order)
    table, names = _table(texts, y, order)
    result = softlabel(table, None, method, params, labels=names, collect=True)
    for w in result.warnings:  # e.g. texts without a token, which get the uniform vector
        warn_user(w)
    col = result.table.column("soft_label").combine_chunks()
    probs = col.flatten().to_numpy().reshape(len(col), len(names))
    return np.ascontiguousarray(probs, dtype=np.float32), order


@one_command
def kwls(
    texts: Sequence[str],
    labels: Sequence[Any],
    *,
    k1: float = K1,
    b: float = B,
    k2: float = K2,
    tokenizer: str = "words",
    lowercase: bool | None = None,
    stopwords: str | None = None,
    min_count: int = 1,
    cross_fit: int | None = None,
    seed: int = 0,
    label_order: Sequence[Any] | None = None,
) -> tuple[np.ndarray, list[Any]]:
    """Keyword-based soft labels (Liu et al., COLING 2022), fitted on these texts.

    Parameters
    ----------
    texts : sequence of str, length N
    labels : sequence, length N
        Each text's gold label.
    k1, b, k2 : float
        BM25-style saturation of the word–label (k1, b) and word–instance (k2)
        counts; the authors' 2.0, 0.75, 2.0 by default.
    tokenizer : {"words", "whitespace"}
        ``words``: lowercased Unicode ``\\w+``; ``whitespace``: the authors'
        ``text.split(' ')``.
    lowercase : bool, optional
        Default: yes for ``words``, no for ``whitespace``.
    stopwords : str, optional
        ``english``, ``none`` or a file with one word per line.
    min_count : int
        Drop words seen fewer times overall.
    cross_fit : int, optional
        Out-of-fold statistics over this many folds (no leakage of a text's
        own words into its class counts); ``seed`` assigns the folds.
    label_order : sequence, optional
        The order of the K columns; default: sorted distinct labels.

    Returns
    -------
    probs : ndarray, shape (N, K), float32
        Rows sum to 1.
    labels : list, length K
        The label of each column.

    Examples
    --------
    "dull" is seen only in ``neg`` texts, so the ``neg`` row that also says
    "great" keeps most of its mass on ``neg``:

    >>> import lsctl
    >>> texts = ["great fun film", "dull plot, dull film", "great acting", "a dull great film"]
    >>> probs, order = lsctl.kwls(texts, ["pos", "neg", "pos", "neg"])
    >>> order
    ['neg', 'pos']
    >>> probs.shape, probs.sum(axis=1).round(6).tolist()
    ((4, 2), [1.0, 1.0, 1.0, 1.0])
    >>> probs.argmax(axis=1).tolist()
    [1, 0, 1, 0]
    """
    params = {
        "k1": k1,
        "b": b,
        "k2": k2,
        "tokenizer": tokenizer,
        "lowercase": lowercase,
        "stopwords": stopwords,
        "min_count": min_count,
        "cross_fit": cross_fit or 0,
        "seed": seed,
    }
    return _probs("kwls", texts, labels, label_order, params)


@one_command
def tfidf(
    texts: Sequence[str],
    labels: Sequence[Any],
    *,
    tokenizer: str = "words",
    lowercase: bool | None = None,
    stopwords: str | None = None,
    min_count: int = 1,
    cross_fit: int | None = None,
    seed: int = 0,
    label_order: Sequence[Any] | None = None,
) -> tuple[np.ndarray, list[Any]]:
    """LS-TFIDF soft labels: KWLS without BM25 saturation. Parameters and returns as :func:`kwls`.

    Examples
    --------
    >>> import lsctl
    >>> texts = ["great fun film", "dull plot, dull film", "great acting", "a dull great film"]
    >>> probs, order = lsctl.tfidf(texts, ["pos", "neg", "pos", "neg"])
    >>> probs.shape, probs.dtype, probs.argmax(axis=1).tolist()
    ((4, 2), dtype('float32'), [1, 0, 1, 0])
    """
    params = {
        "tokenizer": tokenizer,
        "lowercase": lowercase,
        "stopwords": stopwords,
        "min_count": min_count,
        "cross_fit": cross_fit or 0,
        "seed": seed,
    }
    return _probs("tfidf", texts, labels, label_order, params)


@one_command
def uniform(
    labels: Sequence[Any],
    *,
    epsilon: float = 0.1,
    convention: str = "k",
    label_order: Sequence[Any] | None = None,
) -> tuple[np.ndarray, list[Any]]:
    """Uniform label smoothing of hard labels.

    Parameters
    ----------
    labels : sequence, length N
    epsilon : float in [0, 1)
    convention : {"k", "k-1", "per-class"}
        ``k``: gold 1−ε+ε/K, others ε/K (torch); ``k-1``: gold 1−ε, others
        ε/(K−1) (fairseq); ``per-class``: each other class ε.
    label_order : sequence, optional

    Returns
    -------
    probs : ndarray, shape (N, K), float32
    labels : list, length K

    Examples
    --------
    K = 2, ε = 0.1: the gold label gets 1 − 0.1 + 0.1/2 = 0.95, the other 0.05.

    >>> import lsctl
    >>> probs, order = lsctl.uniform(["pos", "neg", "pos"], epsilon=0.1)
    >>> order
    ['neg', 'pos']
    >>> probs
    array([[0.05, 0.95],
           [0.95, 0.05],
           [0.05, 0.95]], dtype=float32)

    fairseq's convention, K = 3, ε = 0.3: gold 0.7, each other 0.3/2.

    >>> lsctl.uniform([0, 1, 2], epsilon=0.3, convention="k-1")[0][0]
    array([0.7 , 0.15, 0.15], dtype=float32)
    """
    return _probs(
        "uniform", None, labels, label_order, {"epsilon": epsilon, "convention": convention}
    )


@one_command
def nls(
    labels: Sequence[Any], *, rate: float, label_order: Sequence[Any] | None = None
) -> tuple[np.ndarray, list[Any]]:
    """Generalized (negative) label smoothing: the ``k`` convention with any rate < 1.

    A negative ``rate`` gives negative off-target entries (rows still sum to 1).

    Parameters
    ----------
    labels : sequence, length N
    rate : float < 1
        Gold 1 − rate + rate/K, others rate/K.
    label_order : sequence, optional

    Returns
    -------
    probs : ndarray, shape (N, K), float32
    labels : list, length K

    Examples
    --------
    K = 2, rate −0.2: gold 1 + 0.2 − 0.2/2 = 1.1, the other −0.2/2 = −0.1.

    >>> import lsctl
    >>> lsctl.nls(["pos", "neg"], rate=-0.2)
    (array([[-0.1,  1.1],
           [ 1.1, -0.1]], dtype=float32), ['neg', 'pos'])
    """
    return _probs("nls", None, labels, label_order, {"rate": rate})


@one_command
def keyword_stats(
    texts: Sequence[str],
    labels: Sequence[Any],
    *,
    k1: float = K1,
    b: float = B,
    tokenizer: str = "words",
    lowercase: bool | None = None,
    stopwords: str | None = None,
    min_count: int = 1,
    label_order: Sequence[Any] | None = None,
) -> Any:
    """Word×label statistics, as ``lsctl keywords``.

    Returns
    -------
    lsctl.smoothing.run.KeywordsResult
        ``table``: a pyarrow Table with one row per (word, label) seen,
        columns ``word, label, count, wlc, wlw, wlr, rank, df`` (``rank``: the
        word's rank within the label by WLR); ``labels``: the label order,
        spelled as strings as in ``table`` (a keywords artifact's order);
        ``stats`` (documents,
        tokens, X_avg, tokens per class); ``vocab_size`` (words in the table,
        after ``min_count``) and ``words_seen`` (before it).
    """
    from lsctl.artifacts.io import table_reader
    from lsctl.params import check_all
    from lsctl.smoothing.kwls import RelevanceMethod
    from lsctl.smoothing.run import keywords
    from lsctl.text.tokenize import TokenizerSpec

    given = {"k1": k1, "b": b, "tokenizer": tokenizer, "lowercase": lowercase}
    given.update(stopwords=stopwords, min_count=min_count)
    # kwls's own declarations: min_count=2.5 or lowercase="no" is refused alike.
    check_all([p for p in RelevanceMethod.options if p.name in given], given)
    y, order = _codes(labels, label_order)
    table, names = _table(texts, y, order)
    spec = TokenizerSpec(tokenizer, lowercase, stopwords or "none")
    return keywords(table_reader(table), spec, k1, b, min_count, labels=names)


@dataclass
class NoisyLabels:
    """The result of :func:`add_noise`.

    ``labels``: the N noisy labels (same kind of values as given);
    ``is_noisy``: N booleans; ``label_order``: the K labels that index
    ``intended`` and ``realized``, the K×K transition matrices
    T(i, j) = P(noisy = j | clean = i) intended and realized;
    ``realized_rate``: the fraction of labels changed; ``options``: what was used.
    """

    labels: np.ndarray
    is_noisy: np.ndarray
    label_order: list[Any]
    intended: np.ndarray
    realized: np.ndarray
    realized_rate: float
    intended_rate: float
    options: dict[str, Any]


@one_command
def add_noise(
    labels: Sequence[Any],
    *,
    kind: str,
    rate: float | None = None,
    seed: int = 0,
    convention: str | None = None,
    pairs: Sequence[tuple[Any, Any] | str] | None = None,
    matrix: Any = None,
    stochastic: str = "rows",
    temperature: float | None = None,
    exact: bool = False,
    texts: Sequence[str] | None = None,
    label_order: Sequence[Any] | None = None,
) -> NoisyLabels:
    """Seeded label noise, as ``lsctl noise``.

    Parameters
    ----------
    labels : sequence, length N
        The clean labels.
    kind : {"symmetric", "pairflip", "asymmetric", "matrix", "instance"}
    rate : float in [0, 1)
        The noise rate (not for ``matrix``).
    convention : {"off-diagonal", "uniform"}, optional
        symmetric: R/(K−1) to each other class, or R resampled over all K.
    pairs : sequence of (source, target) or "SOURCE:TARGET", optional
        asymmetric: which classes flip to which.
    matrix : array (K, K) or str, optional
        matrix: T, or a CSV/JSON file; ``stochastic`` says whether its
        ``rows`` (ours) or ``columns`` (cleanlab's ``noise_matrix``) sum to 1.
    temperature : float, optional
        instance: τ of p_i = σ(a + s_i/τ) (default 0.2).
    exact : bool
        Flip exactly round(n_c·(1−T(c, c))) labels per class.
    texts : sequence of str, optional
        instance: the texts whose KWLS relevance makes them confusable.
    label_order : sequence, optional

    Returns
    -------
    NoisyLabels

    Examples
    --------
    With ``exact``, 40% of each class of five is round(0.4·5) = 2 labels:

    >>> import lsctl
    >>> noisy = lsctl.add_noise(["a"] * 5 + ["b"] * 5, kind="symmetric", rate=0.4, exact=True)
    >>> int(noisy.is_noisy[:5].sum()), int(noisy.is_noisy[5:].sum()), noisy.realized_rate
    (2, 2, 0.4)
    >>> noisy.realized
    array([[0.6, 0.4],
           [0.4, 0.6]])
    """
    from lsctl.noise.run import noisy_labels
    from lsctl.validation import check_bool

    check_bool("exact", exact)
    if texts is not None and kind != "instance":
        raise ParameterError(
            "{texts:n} applies to {kind:v=instance} (which scores them); not to {kind}",
            texts=None,
            kind=kind,
        )
    y, order = _codes(labels, label_order)
    names = [str(v) for v in order]
    if isinstance(pairs, str) or (
        isinstance(pairs, tuple) and len(pairs) == 2 and not any(":" in str(p) for p in pairs)
    ):
        pairs = [pairs]  # one pair: "A:B" or ("A", "B")
    pair_names = [_pair(p) for p in pairs] if pairs else None
    text_arr = None
    if texts is not None:
        text_arr = _table(texts, y, order)[0].column("text")
    noised = noisy_labels(
        y,
        names,
        kind=kind,
        rate=rate,
        seed=seed,
        convention=convention,
        pairs=pair_names,
        matrix=matrix,
        stochastic=stochastic,
        temperature=temperature,
        exact=exact,
        texts=text_arr,
    )
    for w in noised.warnings:  # e.g. a rate that kind="matrix" does not use
        warn_user(str(w))
    r = noised.result
    return NoisyLabels(
        labels=np.asarray(order)[r.noisy],
        is_noisy=r.noisy != y,
        label_order=order,
        intended=r.intended,
        realized=r.realized,
        realized_rate=r.realized_rate,
        intended_rate=r.intended_rate,
        options=noised.options,
    )


@one_command
def undersample(
    labels: Sequence[Any],
    *,
    ratio: dict[Any, float] | None = None,
    cap: dict[Any, int] | None = None,
    seed: int = 0,
    label_order: Sequence[Any] | None = None,
) -> np.ndarray:
    """Make classes rare, as ``lsctl data sample``: the sorted indices of the rows kept.

    Parameters
    ----------
    labels : sequence, length N
    ratio : dict label → float in (0, 1], optional
        Keep round-half-up(r·n) rows of the class (at least 1); the key ``"*"``
        stands for every label not named.
    cap : dict label → int ≥ 1, optional
        Keep at most this many rows of the class (``"*"`` as for ``ratio``).
    seed : int

    Returns
    -------
    ndarray of int64, sorted

    Examples
    --------
    Keep round(0.4·5) = 2 of the five ``b`` rows and every ``a`` row:

    >>> import lsctl
    >>> kept = lsctl.undersample(["a"] * 5 + ["b"] * 5, ratio={"b": 0.4})
    >>> len(kept), kept[:5].tolist()
    (7, [0, 1, 2, 3, 4])
    """
    from lsctl.noise.imbalance import ALL_LABELS, check_cap, check_ratio, expand_all_labels
    from lsctl.noise.imbalance import undersample as core

    y, order = _codes(labels, label_order)
    index = {v: i for i, v in enumerate(order)}
    given = {}
    for name, limits in (("ratio", ratio or {}), ("cap", cap or {})):
        if not isinstance(limits, dict):
            raise ParameterError(
                f"{{{name}:n}} is a dict of label → {'share' if name == 'ratio' else 'count'} "
                f"(e.g. {{{{'neg': {'0.01' if name == 'ratio' else '100'}}}}}), not "
                f"{type(limits).__name__}",
                **{name: None},
            )
        for lab in limits:
            if lab not in index and lab != ALL_LABELS:
                raise ParameterError(
                    f"{{{name}}} names {_literal(lab)}, which is not a label", **{name: limits}
                )
            (check_ratio if name == "ratio" else check_cap)(lab, limits[lab])
        given[name] = {index[lab]: v for lab, v in expand_all_labels(limits, order).items()}
    if not given["ratio"] and not given["cap"]:
        raise ParameterError("give {ratio:n} or {cap:n}", ratio=None, cap=None)
    return core(y, len(order), given["ratio"], given["cap"], seed)


@one_command
def split(
    labels: Sequence[Any],
    *,
    dev: float = 0.1,
    test: float = 0.1,
    seed: int = 0,
    label_order: Sequence[Any] | None = None,
) -> dict[str, np.ndarray]:
    """Stratified, seeded train/dev/test split, as ``lsctl data split``.

    Parameters
    ----------
    labels : sequence, length N
    dev, test : float in [0, 1)
        The shares of each class that go to dev and to test (together < 1).
    seed : int
    label_order : sequence, optional

    Returns
    -------
    dict
        ``{"train": idx, "dev": idx, "test": idx}``: sorted int64 row indices;
        a split with fraction 0 is left out.

    Examples
    --------
    Ten rows of each class, 20% dev and 20% test: two of each class in each.

    >>> import numpy as np, lsctl
    >>> labels = np.array(["a"] * 10 + ["b"] * 10)
    >>> parts = lsctl.split(labels, dev=0.2, test=0.2, seed=0)
    >>> {k: len(v) for k, v in parts.items()}
    {'train': 12, 'dev': 4, 'test': 4}
    >>> [sorted(labels[v]).count("a") for v in parts.values()]
    [6, 2, 2]
    """
    from lsctl.data.split import stratified_split

    y, order = _codes(labels, label_order)
    return stratified_split(y, [str(v) for v in order], dev, test, seed)
