"""Dual-encoder retrieval: question and sentence towers over lsctl's text encoders.

Training (docs/retrieval.md): each batch holds B training-fold questions; its
candidates are their gold sentences (one per distinct text, so two questions
with the same gold never treat it as a negative) plus, with
``hard_negatives``, sentences sampled from BM25's top ranks over the training
fold. Scores are ``q·s/τ`` (``dot``) or ``cos(q, s)/τ`` (``cos``); the loss is
lsctl's classification loss over the B × C score matrix, the candidates
playing the labels, with the soft targets of :func:`batch_targets`. The epoch
with the best dev-fold MRR (the dev questions ranking the dev fold's own
sentences) is kept.

Import :mod:`lsctl.train` before this module (the CLI does), so lsctl's OpenMP
default is set before torch loads.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import torch
import torch.nn.functional as F
from torch import nn

from lsctl.errors import LsctlError
from lsctl.progress import Progress, ensure
from lsctl.retrieval.data import Corpus, make_corpus, select_fold
from lsctl.retrieval.dual_config import DualConfig
from lsctl.retrieval.rank import gold_ranks, metrics
from lsctl.text.tokenize import TokenizerSpec, tokenize
from lsctl.train import losses
from lsctl.train import run_dir as rd
from lsctl.train.device import resolve_device
from lsctl.train.features import HFEncoder, WordEncoder
from lsctl.train.features import batch as cut_batch
from lsctl.train.vocab import build_vocab

HARD_POOL = 20  # hard negatives are drawn from BM25's top 20 non-gold sentences
MAX_LENGTH = 100  # tokens per question or sentence (SQuAD sentences rarely exceed it)
VOCAB_SIZE = 50_000
BUCKETS = 200_000  # fastText bigram rows: 2M (fastText's default) is 10x the Adam state
DROPOUT = 0.1
DEV_BLOCK = 1024


# ---------------------------------------------------------------------------
# The model


class Tower(nn.Module):
    """One encoder's pooled features (its classifier head is never used)."""

    def __init__(self, encoder: str, vocab_size: int, embed_dim: int, hidden: int) -> None:
        super().__init__()
        from lsctl.train.models import build_scratch

        # fastText's tables take sparse gradients (SparseAdam touches only the rows
        # a batch used; a dense Adam step over every bigram row costs far more).
        extra: dict[str, Any] = (
            {"buckets": BUCKETS, "sparse": True} if encoder == "fasttext" else {}
        )
        self.net = build_scratch(encoder, vocab_size, 1, embed_dim, hidden, DROPOUT, **extra)
        # The classifier (d × 1) is never called: it gets no gradient, so Adam skips it.

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.net.features(ids, mask)


class HFTower(nn.Module):
    """A transformers encoder (``AutoModel``), mean-pooled over the real tokens."""

    def __init__(self, source: str | None = None, config: Any = None) -> None:
        super().__init__()
        from transformers import AutoModel

        from lsctl.train.models import quiet_transformers

        if config is not None:  # a saved run: the architecture, then its own weights
            self.hf = AutoModel.from_config(config)
        else:
            try:
                with quiet_transformers():
                    self.hf = AutoModel.from_pretrained(source)
            except (OSError, ValueError) as e:
                raise LsctlError(f"hf:{source}: cannot load the model: {e}") from e

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.hf(input_ids=ids, attention_mask=mask.long()).last_hidden_state
        m = mask.unsqueeze(2).to(h.dtype)
        return (h * m).sum(1) / m.sum(1).clamp(min=1)


class DualEncoder(nn.Module):
    """Question and sentence towers (one shared module unless ``separate``).

    ``encoder`` is fasttext, textcnn, lstm or ``hf:PATH``; an hf tower loads
    PATH's weights, or, given ``hf_config``, only its architecture (a saved run).
    """

    def __init__(
        self,
        encoder: str,
        vocab_size: int,
        embed_dim: int,
        hidden: int,
        separate: bool,
        score: str,
        temperature: float,
        hf_config: Any = None,
    ) -> None:
        super().__init__()

        def tower() -> nn.Module:
            if encoder.startswith("hf:"):
                from lsctl.train.models import resolve_hf

                return HFTower(resolve_hf(encoder[3:]), hf_config)
            return Tower(encoder, vocab_size, embed_dim, hidden)

        self.q_tower = tower()
        self.s_tower = tower() if separate else None
        self.score, self.temperature = score, temperature

    def encode(self, ids: torch.Tensor, mask: torch.Tensor, side: str) -> torch.Tensor:
        """Vectors of a batch of texts (moved to the model's device); unit length for cos."""
        tower = self.s_tower if side == "s" and self.s_tower is not None else self.q_tower
        device = next(self.parameters()).device
        v = tower(ids.to(device), mask.to(device))
        return F.normalize(v, dim=1) if self.score == "cos" else v

    def logits(self, q: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """B × C scores / τ from encoded questions and sentences."""
        return q @ s.T / self.temperature


# ---------------------------------------------------------------------------
# Data


@dataclass
class Folds:
    train: Corpus  # training questions over the training-fold sentences
    dev: Corpus  # dev questions over the dev-fold sentences
    representative: np.ndarray  # per text group of train: its first sentence index


def load_folds(c: DualConfig) -> Folds:
    from lsctl.artifacts import read_artifact, require_columns
    from lsctl.retrieval.data import QUESTION_COLUMNS, SENTENCE_COLUMNS
    from lsctl.validation import check_one_stdin

    check_one_stdin({"questions": c.questions, "sentences": c.sentences})
    qt, qr = read_artifact(c.questions)
    st, sr = read_artifact(c.sentences)
    require_columns(qt, [*QUESTION_COLUMNS, "fold"], c.questions, "training needs the folds")
    require_columns(st, [*SENTENCE_COLUMNS, "fold"], c.sentences, "training needs the folds")
    paths = [c.questions, c.sentences]

    def fold(name: str) -> Corpus:
        return make_corpus(
            select_fold(qt, name, c.questions),
            select_fold(st, name, c.sentences),
            st,
            "fold",
            name,
            paths,
            [qr, sr],
        )

    train, dev = fold(c.train_fold), fold(c.dev_fold)
    groups = train.pool_group
    rep = np.full(int(groups.max()) + 1, -1, dtype=np.int64)
    for i in range(len(groups) - 1, -1, -1):  # the first sentence of each text wins
        rep[groups[i]] = i
    return Folds(train, dev, rep)


def hard_negative_pool(corpus: Corpus, k: int, progress: Progress | None = None) -> np.ndarray:
    """Per training question, the text groups of BM25's top-k non-gold training sentences."""
    from lsctl.retrieval.bm25 import BM25
    from lsctl.retrieval.rank import top_k

    index = BM25(corpus.pool_texts)
    qm = index.query_matrix(corpus.question_texts)
    n = corpus.questions.num_rows
    out = np.empty((n, k), dtype=np.int64)
    with ensure(progress).task("BM25 hard negatives", total=n) as task:
        for start in range(0, n, 512):
            rows = np.arange(start, min(n, start + 512))
            s = (qm[rows] @ index.doc_weights).toarray()
            s[corpus.gold_mask(rows)] = -np.inf  # never the question's own gold text
            top = top_k(s, k + 8)
            g = corpus.pool_group[top]
            for i in range(len(rows)):
                # Distinct groups in rank order; duplicates of one text count once.
                _, first = np.unique(g[i], return_index=True)
                uniq = g[i][np.sort(first)][:k]
                out[rows[i]] = np.resize(uniq, k)
            task.advance(len(rows))
    return out


def batch_candidates(
    gold_groups: np.ndarray, negatives: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(candidate text groups, gold column per question): golds first, each text once."""
    pool = gold_groups if negatives is None else np.concatenate([gold_groups, negatives.ravel()])
    _, first = np.unique(pool, return_index=True)
    cand = pool[np.sort(first)]
    col = {int(g): j for j, g in enumerate(cand)}
    return cand, np.array([col[int(g)] for g in gold_groups], dtype=np.int64)


def batch_targets(
    kind: str,
    y: np.ndarray,
    n_cand: int,
    epsilon: float = 0.0,
    relevance: Callable[[], np.ndarray] | None = None,
) -> np.ndarray | None:
    """Soft targets over a batch's candidates (rows: questions; columns: candidates).

    none: None (plain CE on ``y``); uniform: (1−ε)·onehot + ε/C; tfidf, kwls,
    distill: the rows ``relevance()`` returns (already distributions).
    """
    if kind == "none":
        return None
    if kind == "uniform":
        d = np.full((len(y), n_cand), epsilon / n_cand)
        d[np.arange(len(y)), y] += 1.0 - epsilon
        return d
    return relevance()


# ---------------------------------------------------------------------------
# Training


def _encode_all(
    model: DualEncoder, ids: torch.Tensor, lens: torch.Tensor, side: str
) -> torch.Tensor:
    out = []
    for start in range(0, len(lens), DEV_BLOCK):
        idx = torch.arange(start, min(len(lens), start + DEV_BLOCK))
        sub, mask = cut_batch(ids, lens, idx)
        out.append(model.encode(sub, mask, side))
    return torch.cat(out) if out else torch.zeros(0, 1)


def encode_corpus(
    encoder: WordEncoder, corpus: Corpus, progress: Progress | None = None
) -> tuple[torch.Tensor, ...]:
    """Token ids of the pool and the questions: (s_ids, s_len, q_ids, q_len)."""
    s = encoder(corpus.pool_texts.to_pylist(), progress)
    q = encoder(corpus.question_texts.to_pylist(), progress)
    return (*s, *q)


def rank_with(
    model: DualEncoder,
    encoder: WordEncoder,
    corpus: Corpus,
    progress: Progress | None = None,
    encoded: tuple[torch.Tensor, ...] | None = None,
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """(ranks, score_block) of the corpus's questions over its pool, in eval mode.

    ``encoded``: the (sentence ids, lengths, question ids, lengths) of
    :func:`encode_corpus`, when the caller ranks the same corpus repeatedly.
    """
    model.eval()
    s_ids, s_len, q_ids, q_len = encoded or encode_corpus(encoder, corpus, progress)
    with torch.no_grad():
        sv = _encode_all(model, s_ids, s_len, "s")
        qv = _encode_all(model, q_ids, q_len, "q")

    def block(rows: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            rows_t = torch.as_tensor(rows, device=qv.device)
            return model.logits(qv[rows_t], sv).double().cpu().numpy()

    n = corpus.questions.num_rows
    ranks = np.empty(n, dtype=np.int64)
    for start in range(0, n, DEV_BLOCK):
        rows = np.arange(start, min(n, start + DEV_BLOCK))
        ranks[rows] = gold_ranks(block(rows), corpus.gold_mask(rows))
    return ranks, block


def load_run(run: str, device: str = "cpu") -> tuple[DualEncoder, Any, dict[str, Any]]:
    """A finished `retrieve train` run: (model in eval mode on ``device``, text encoder, config)."""
    config = rd.read_config(run)
    if config.get("kind") != "retrieval":
        raise LsctlError(f"{run}: not a `lsctl retrieve train` run")
    if config.get("status") != "finished":
        raise LsctlError(f"{run}: the run did not finish (status {config.get('status')!r})")
    c = config["options"]
    hf_config = None
    if c["encoder"].startswith("hf:"):
        from transformers import AutoConfig, AutoTokenizer

        folder = os.path.join(run, rd.HF_DIR)
        hf_config = AutoConfig.from_pretrained(folder)
        encoder: Any = HFEncoder(AutoTokenizer.from_pretrained(folder), MAX_LENGTH)
        size = 0
    else:
        from lsctl.train.vocab import Vocab

        vocab = Vocab.load(os.path.join(run, rd.VOCAB))
        encoder, size = WordEncoder(vocab, MAX_LENGTH), len(vocab)
    model = DualEncoder(
        c["encoder"],
        size,
        c["embed_dim"],
        c["hidden"],
        c["separate_towers"],
        c["score"],
        c["temperature"],
        hf_config=hf_config,
    )
    model.load_state_dict(rd.load_weights(run))
    model.to(resolve_device(device))
    model.eval()
    return model, encoder, config


class Optimizer:
    """Adam, with SparseAdam for the embedding tables that take sparse gradients."""

    def __init__(self, model: nn.Module, lr: float) -> None:
        sparse_ids = {
            id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding) and m.sparse
        }
        sparse = [p for p in model.parameters() if id(p) in sparse_ids]
        dense = [p for p in model.parameters() if id(p) not in sparse_ids]
        self.opts: list[torch.optim.Optimizer] = [torch.optim.Adam(dense, lr=lr)]
        if sparse:
            self.opts.append(torch.optim.SparseAdam(sparse, lr=lr))

    def zero_grad(self) -> None:
        for o in self.opts:
            o.zero_grad()

    def step(self) -> None:
        for o in self.opts:
            o.step()


class Teacher:
    """A previous run's scores on training batches: the distill targets."""

    def __init__(self, run: str, folds: Folds, device: str = "cpu") -> None:
        self.model, enc, self.config = load_run(run, device)
        self.q = enc(folds.train.question_texts.to_pylist())
        self.s = enc(folds.train.pool_texts.to_pylist())

    def targets(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            qv = self.model.encode(*cut_batch(*self.q, torch.as_tensor(rows)), "q")
            sv = self.model.encode(*cut_batch(*self.s, torch.as_tensor(cols)), "s")
            return F.softmax(self.model.logits(qv, sv).double(), dim=1).cpu().numpy()


def train(
    config: DualConfig,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train, select the epoch on dev MRR, write the run directory; returns the summary."""
    from lsctl.artifacts.io import remove_empty_dirs

    c = config.resolved()
    c.validate()
    progress = ensure(progress)
    notify = notify or (lambda msg: None)
    created = rd.prepare(c.output, resume=False)
    try:
        return _train(c, progress, notify)
    except BaseException:
        if not os.path.exists(os.path.join(c.output, rd.CONFIG)):
            remove_empty_dirs(created)
        raise


def _train(c: DualConfig, progress: Progress, notify: Callable[[str], None]) -> dict[str, Any]:
    torch.manual_seed(c.seed)
    rng = np.random.default_rng(c.seed)
    folds = load_folds(c)
    tr = folds.train
    vocab = tokenizer = None
    if c.encoder.startswith("hf:"):
        from transformers import AutoTokenizer

        from lsctl.train.models import resolve_hf

        source = resolve_hf(c.encoder[3:])
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
        except (OSError, ValueError) as e:
            raise LsctlError(f"{c.encoder}: cannot load the tokenizer: {e}") from e
        encoder: Any = HFEncoder(tokenizer, MAX_LENGTH)
        q_ids, q_len = encoder(tr.question_texts.to_pylist(), progress)
        s_ids, s_len = encoder(tr.pool_texts.to_pylist(), progress)
        size = 0
    else:
        spec = TokenizerSpec()
        with progress.task("building vocabulary", total=None):
            q_tokens = tokenize(tr.question_texts.to_pylist(), spec)
            s_tokens = tokenize(tr.pool_texts.to_pylist(), spec)
            vocab = build_vocab(q_tokens + s_tokens, spec, VOCAB_SIZE)
        encoder = WordEncoder(vocab, MAX_LENGTH)
        q_ids, q_len = encoder.from_tokens(q_tokens)
        s_ids, s_len = encoder.from_tokens(s_tokens)
        del q_tokens, s_tokens
        size = len(vocab)
    model = DualEncoder(
        c.encoder, size, c.embed_dim, c.hidden, c.separate_towers, c.score, c.temperature
    )
    model.to(resolve_device(c.device))
    opt = Optimizer(model, c.lr)

    relevance = teacher = negatives = None
    if c.targets in ("kwls", "tfidf"):
        from lsctl.retrieval.relevance import CandidateRelevance

        with progress.task(f"fitting {c.targets} on the training fold", total=None):
            relevance = CandidateRelevance(tr.pool_texts, tr.question_texts, c.targets)
    elif c.targets == "distill":
        teacher = Teacher(c.teacher, folds, c.device)
    if c.hard_negatives:
        negatives = hard_negative_pool(tr, HARD_POOL, progress)

    rep = folds.representative
    n = tr.questions.num_rows
    steps = math.ceil(n / c.batch_size)
    rows_out: list[dict[str, Any]] = []
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    dev_encoded = encode_corpus(encoder, folds.dev)
    for epoch in range(1, c.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        g = torch.Generator().manual_seed(c.seed * 1_000_003 + epoch)
        order = torch.randperm(n, generator=g).numpy()
        total = 0.0
        with progress.task(f"epoch {epoch}/{c.epochs}", total=steps) as task:
            for step in range(steps):
                rows = order[step * c.batch_size : (step + 1) * c.batch_size]
                neg = None
                if negatives is not None:
                    pick = rng.integers(0, HARD_POOL, size=(len(rows), c.hard_negatives))
                    neg = np.take_along_axis(negatives[rows], pick, axis=1)
                groups, y = batch_candidates(tr.gold_group[rows], neg)
                cols = rep[groups]

                def rel(rows=rows, cols=cols) -> np.ndarray:
                    if relevance is not None:
                        return relevance.targets(rows, cols)
                    return teacher.targets(rows, cols)

                d = batch_targets(c.targets, y, len(cols), c.label_smoothing, rel)
                qv = model.encode(*cut_batch(q_ids, q_len, torch.as_tensor(rows)), "q")
                sv = model.encode(*cut_batch(s_ids, s_len, torch.as_tensor(cols)), "s")
                logits = model.logits(qv, sv)
                dev = logits.device
                dt = None if d is None else torch.as_tensor(d, dtype=torch.float32, device=dev)
                yt = torch.as_tensor(y, device=dev)
                loss = losses.compute(c.loss, logits, None, yt, dt, c.alpha)
                if not torch.isfinite(loss):
                    raise LsctlError(
                        f"the loss is {loss.item()} in epoch {epoch}; lower --lr or "
                        "raise --temperature"
                    )
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item()
                task.advance(1)
        ranks, _ = rank_with(model, encoder, folds.dev, encoded=dev_encoded)
        m = metrics(ranks)
        row = {
            "epoch": epoch,
            "train_loss": total / steps,
            "dev_mrr": m["mrr"],
            "dev_recall@1": m["recall@1"],
            "dev_recall@10": m["recall@10"],
            "seconds": time.perf_counter() - t0,
        }
        rows_out.append(row)
        notify(
            f"epoch {epoch}: loss {row['train_loss']:.4f}, dev MRR {m['mrr']:.4f}, "
            f"R@1 {m['recall@1']:.4f} ({row['seconds']:.1f} s)"
        )
        if best is None or m["mrr"] > best[0]:
            state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            best = (m["mrr"], epoch, state)

    assert best is not None
    _, best_epoch, state = best
    if vocab is not None:
        vocab.save(os.path.join(c.output, rd.VOCAB))
    else:
        # The tokenizer and the architecture; the weights are in model.safetensors.
        folder = os.path.join(c.output, rd.HF_DIR)
        tokenizer.save_pretrained(folder)
        model.q_tower.hf.config.save_pretrained(folder)
    rd.save_weights(c.output, state)
    _write_metrics(c, rows_out, best_epoch)
    summary = {
        "output": c.output,
        "selected_epoch": best_epoch,
        **{k: v for k, v in rows_out[best_epoch - 1].items() if k != "epoch"},
        "train_questions": n,
        "dev_questions": folds.dev.questions.num_rows,
        "dev_pool": folds.dev.pool.num_rows,
    }
    config_json = {
        "kind": "retrieval",
        "status": "finished",
        "options": asdict(c),
        "vocab_size": len(vocab) if vocab is not None else len(tokenizer),
        "relevance": relevance.describe() if relevance is not None else None,
        "inputs": [r.input_record() for r in tr.readers],
        "result": summary,
    }
    from lsctl import __version__

    config_json["lsctl_version"] = __version__
    rd.write_json(c.output, rd.CONFIG, config_json)
    return summary


def _write_metrics(c: DualConfig, rows: list[dict[str, Any]], selected: int) -> None:
    from lsctl.artifacts import make_meta, write_artifact

    cols = {k: [r[k] for r in rows] for k in rows[0]}
    cols["selected"] = [r["epoch"] == selected for r in rows]
    table = pa.table(cols)
    write_artifact(table, os.path.join(c.output, rd.METRICS), make_meta("run", None, asdict(c)))


def predict(
    run: str,
    questions: str,
    sentences: str,
    *,
    fold: str = "test",
    pool: str = "all",
    top_k: int = 100,
    name: str | None = None,
    output: str | None = None,
    device: str = "auto",
    progress: Progress | None = None,
) -> tuple[pa.Table, dict[str, Any], dict[str, Any]]:
    """Rank ``fold``'s questions over ``pool`` with a trained run: (table, metadata, summary).

    With ``output``, the ranked artifact is also written there.
    """
    from lsctl.evaluate.naming import system_name
    from lsctl.retrieval.data import load_corpus
    from lsctl.retrieval.rank import rank_corpus, ranked_meta
    from lsctl.validation import check_not_blank

    check_not_blank("name", name)
    model, encoder, config = load_run(run, device)
    corpus = load_corpus(questions, sentences, fold, pool)
    _, block = rank_with(model, encoder, corpus, progress)
    ranked = rank_corpus(corpus, block, top_k, progress)
    seed = config["options"].get("seed")
    name = name or system_name(run, seed)  # runs/k-s2 → "k", as lsctl eval names it
    params = {
        "method": "dual-encoder",
        "run": os.path.abspath(run),
        "pool": pool,
        "fold": fold,
        "top_k": top_k,
        **{k: config["options"][k] for k in ("encoder", "targets", "score")},
    }
    meta = ranked_meta(corpus, name, seed, params)
    summary = {
        "name": name,
        "seed": seed,
        "fold": fold,
        "pool": pool,
        "pool_size": corpus.pool.num_rows,
        "n": corpus.questions.num_rows,
        **metrics(ranked.ranks),
    }
    if output is not None:
        from lsctl.artifacts import write_artifact

        write_artifact(ranked.table, output, meta, [questions, sentences])
    return ranked.table, meta, summary
