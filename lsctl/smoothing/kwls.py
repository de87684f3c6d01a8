"""Keyword-based label smoothing (Liu et al., COLING 2022); METHODS.md §1.

The ``kwls`` method, and the machinery it shares with ``tfidf`` (its
parameters, fitting in-sample, cross-fitted or from a keywords artifact, and
scoring batches). The equations (1)–(8) live in :mod:`lsctl.smoothing.relevance`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from lsctl.errors import LsctlError, rows_have
from lsctl.numeric import softmax
from lsctl.params import Param
from lsctl.smoothing.base import Context, Method
from lsctl.smoothing.relevance import (
    K1,
    K2,
    SATURATION,
    B,
    Fitted,
    Spilled,
    Stats,
    count_pass,
    fold_assignment,
    keep_mask,
    stats_from_keywords,
)
from lsctl.text.counts import DocTerm, count_batch
from lsctl.text.tokenize import TOKENIZERS, TokenizerSpec
from lsctl.validation import SEED_MAX, ParameterError, check_range

# What KWLS and TF-IDF share (KWLS adds relevance.SATURATION): tokenization,
# statistics, cross-fitting.
COMMON = (
    Param(
        "tokenizer",
        str,
        None,
        "words (lowercase Unicode \\w+) or whitespace (the KWLS authors' text.split(' ')). "
        "[words]",
        choices=TOKENIZERS,
    ),
    Param(
        "lowercase",
        bool,
        None,
        "Lowercase tokens [yes for words, no for whitespace].",
        record=False,
        flag="--lowercase/--no-lowercase",
    ),
    Param(
        "stopwords",
        str,
        None,
        "english, none, or a file with one word per line [none].",
        record=False,
    ),
    Param("min_count", int, 1, "drop words seen fewer times overall.", low=1,
          hint="(1 keeps every word)"),
    Param("keywords", str, None, "apply statistics from `lsctl keywords` (e.g. of TRAIN)."),
    Param("cross_fit", int, 0, "out-of-fold statistics over F folds (0: in-sample)."),
    Param("seed", int, 0, "seed of the --cross-fit fold assignment.", low=0, high=SEED_MAX),
)  # fmt: skip


class RelevanceMethod(Method):
    """Soft labels softmax(ILR / X_avg); subclasses set ``name`` and ``variant``."""

    variant: ClassVar[str] = "kwls"
    needs_text: ClassVar[bool] = True
    warn_if_flat: ClassVar[bool] = True
    options = (*SATURATION, *COMMON)

    def validate(self, params: dict[str, Any]) -> None:
        super().validate(params)
        folds = params.get("cross_fit") or 0
        if folds:
            check_range("cross_fit", folds, low=2, hint="folds (e.g. {cross_fit:v=5})")
        if folds and params.get("keywords"):
            raise ParameterError(
                "{cross_fit:n} and {keywords:n} exclude each other: cross-fitting fits on "
                "the data itself",
                cross_fit=folds,
                keywords=params.get("keywords"),
            )

    # -- fitting -----------------------------------------------------------

    def prepare(self, ctx: Context) -> None:
        p = ctx.params
        self.k2 = K2 if p.get("k2") is None else float(p["k2"])
        self.min_count = int(p.get("min_count") or 1)
        self.empty = 0
        self.no_overlap = 0
        if p.get("keywords"):
            self._prepare_keywords(ctx)
        else:
            self._prepare_self(ctx)
        info = ctx.info
        info["k1"], info["b"], info["k2"] = self.k1, self.b, self.k2
        info["tokenizer"] = self.spec.to_dict()
        info["min_count"] = self.min_count
        if not int(ctx.params.get("cross_fit") or 0):
            # The seed only assigns folds: without them it changes nothing, so
            # the output does not claim one.
            if ctx.params.get("seed"):
                ctx.warn("--seed only assigns the --cross-fit folds; without --cross-fit it "
                         "changes nothing")  # fmt: skip
            info["seed"] = None
        if self.variant == "tfidf":
            for key in ("k1", "b", "k2"):
                info.pop(key)

    def _spec_from_params(self, p: dict[str, Any]) -> TokenizerSpec:
        return TokenizerSpec(
            name=p.get("tokenizer") or "words",
            lowercase=p.get("lowercase"),
            stopwords=p.get("stopwords") or "none",
        )

    def _prepare_keywords(self, ctx: Context) -> None:
        p = ctx.params
        reader = ctx.add_input(p["keywords"], "keywords")
        table = reader.read()
        vocab, stats, labels, kw_params = stats_from_keywords(table, reader.meta, p["keywords"])
        self._check_labels(ctx, labels, p["keywords"])
        ctx.labels = labels
        self.spec = vocab.spec
        for opt, val in (("tokenizer", "name"), ("lowercase", "lower"), ("stopwords", "stopwords")):
            given = p.get(opt)
            have = getattr(self.spec, val)
            if given is not None and given != have:
                raise LsctlError(
                    f"--{opt} {given!r} differs from the keywords artifact's ({have!r}); "
                    "drop the option or rebuild the keywords with it"
                )
        self.k1 = float(p["k1"] if p.get("k1") is not None else kw_params.get("k1", K1))
        self.b = float(p["b"] if p.get("b") is not None else kw_params.get("b", B))
        self.min_count = max(self.min_count, int(kw_params.get("min_count") or 1))
        self.vocab = vocab
        self.fitted = [self._fit(stats)]
        self.fold_of = None
        self.cache: dict[int, DocTerm] = {}
        ctx.info["statistics"] = f"keywords artifact {p['keywords']}"
        ctx.info["fitted_docs"] = stats.n_docs
        ctx.info["x_avg"] = stats.x_avg

    def _check_labels(self, ctx: Context, kw_labels: list[str], where: str) -> None:
        data_labels = (ctx.meta or {}).get("labels")
        if data_labels and list(data_labels) != kw_labels:
            raise LsctlError(
                f"labels differ: DATA has {list(data_labels)}, {where} has {kw_labels}; "
                "use keywords computed on data with the same label list"
            )
        if ctx.labels:
            only = [lab for lab in ctx.labels if lab not in kw_labels]
            if only:
                raise LsctlError(
                    f"label {only[0]!r} is in DATA but not in {where} (labels {kw_labels}); "
                    "the keywords must cover every label"
                )

    def _prepare_self(self, ctx: Context) -> None:
        p = ctx.params
        if ctx.labels is None:
            raise LsctlError(
                f"{ctx.where}: no column 'label'; --method {self.name} fits its statistics on "
                "labelled data (or pass --keywords KW from labelled data)"
            )
        self.spec = self._spec_from_params(p)
        self.k1 = K1 if p.get("k1") is None else float(p["k1"])
        self.b = B if p.get("b") is None else float(p["b"])
        folds = int(p.get("cross_fit") or 0)
        self.fold_of = None
        if folds:
            n = ctx.num_rows
            if n is None:
                n = sum(b.num_rows for _, b in ctx.batches())
            if n < folds:
                raise ParameterError(
                    f"{{cross_fit}} needs at least {folds} rows; the data has {n}", cross_fit=folds
                )
            self.fold_of = fold_assignment(n, folds, int(p.get("seed") or 0))
        result = count_pass(
            ctx.batches(),
            self.spec,
            ctx.labels,
            ctx.label_indices,
            fold_of=self.fold_of,
            n_folds=folds,
            progress=ctx.progress,
            total_rows=ctx.num_rows,
        )
        self.vocab = result.vocab
        self.vocab.frozen = True
        self.cache = {}
        if result.cache is not None:
            self.cache = dict(result.cache)
        self.spill = result.spill  # removed in finish(), or when collected
        total = result.total
        if total.n_tokens == 0:
            raise LsctlError(f"{ctx.where}: no tokens in any text; nothing to fit")
        if folds:
            self.fitted = [self._fit(total.minus(f)) for f in result.folds]
            ctx.info["statistics"] = f"DATA, cross-fitted over {folds} folds (out-of-fold)"
        else:
            self.fitted = [self._fit(total)]
            ctx.info["statistics"] = "DATA itself (in-sample: each text is in its own class counts)"
        ctx.info["fitted_docs"] = total.n_docs
        ctx.info["x_avg"] = total.x_avg

    def _fit(self, stats: Stats) -> Fitted:
        if stats.n_tokens == 0:
            raise LsctlError("a cross-fitting fold's complement has no tokens; use fewer folds")
        keep = keep_mask(stats, self.min_count)
        return Fitted.from_stats(stats, self.k1, self.b, self.k2, self.variant, keep)

    # -- scoring -----------------------------------------------------------

    def targets(self, ctx: Context, batch: pa.RecordBatch, start: int) -> np.ndarray:
        dt = self.cache.pop(start, None)
        if isinstance(dt, Spilled):
            dt = dt.load()
        elif dt is None:
            dt = count_batch(batch.column("text"), self.vocab)
        if self.fold_of is None:
            ilr = self.fitted[0].ilr(dt)
            out = softmax(ilr / self.fitted[0].x_avg)
        else:
            fb = self.fold_of[start : start + batch.num_rows]
            ilr = np.zeros((batch.num_rows, len(ctx.labels)))
            out = np.empty_like(ilr)
            for j, fit in enumerate(self.fitted):
                rows = np.flatnonzero(fb == j)
                if len(rows):
                    ilr[rows] = fit.ilr(dt.take(rows))
                    out[rows] = softmax(ilr[rows] / fit.x_avg)
        empty = dt.lengths == 0
        self.empty += int(empty.sum())
        self.no_overlap += int(((ilr == 0).all(axis=1) & ~empty).sum())
        return out

    def finish(self, ctx: Context) -> None:
        if getattr(self, "spill", None) is not None:
            self.spill.cleanup()
            self.spill = None
        if self.empty:
            ctx.warn(f"{rows_have(self.empty, 'document')} no tokens; they get the uniform vector")
        if self.no_overlap:
            ctx.warn(
                f"{self.no_overlap} documents share no word with the keyword statistics; "
                "they get the uniform vector"
            )


class KWLS(RelevanceMethod):
    name = "kwls"
    help = "keyword-based soft labels (Liu et al. 2022); --k1 --b --k2, --keywords, --cross-fit"
    variant = "kwls"
