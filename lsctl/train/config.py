"""Every option of ``lsctl train`` in one dataclass, with model-dependent defaults.

The CLI fills it, the loop reads it, ``config.json`` stores it, and ``--resume``
compares it with the stored one. It is torch-free so the CLI can validate
options before importing torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from lsctl.errors import UsageError
from lsctl.validation import check_not_blank, check_one_stdin, check_seed

MODELS = ("textcnn", "lstm", "fasttext")
LOSSES = ("ce", "soft", "aux", "aux-head", "ols")
SOFT_LOSSES = ("soft", "aux", "aux-head")

# Online Label Smoothing (--loss ols): S_0 is uniform LS at this rate unless
# --label-smoothing gives one (0.1, the usual LS rate and the default of the
# widely used PyTorch port of the paper's method), and α = 0.5 weighs the hard
# CE against CE(S[y]) as in Zhang et al. 2021.
OLS_EPSILON = 0.1
# --alpha's default per loss: KWLS's MSE weight for aux/aux-head (their code's
# value), OLS's hard-label weight for ols.
ALPHA_DEFAULTS = {"ols": 0.5}
ALPHA_MAX = 1e6
ALPHA_LOSSES = ("aux", "aux-head", "ols")  # the losses that weigh two terms by --alpha
ALPHA_DEFAULT = 1.0

# Options of the models trained from scratch, which an hf: model does not read
# (flag → field); they keep their defaults there (None for embed_dim, dropout).
HF_UNREAD = {
    "--embed-dim": "embed_dim",
    "--dropout": "dropout",
    "--embed-init": "embed_init",
    "--tokenizer": "tokenizer",
    "--vocab-size": "vocab_size",
    "--min-count": "min_count",
    "--max-norm": "max_norm",
    "--embeddings": "embeddings",
    "--freeze-embeddings": "freeze_embeddings",
}

# Options that may change between the first run and ``--resume`` without
# changing what is computed (or that the user may legitimately extend).
RESUMABLE_CHANGES = ("epochs", "patience", "device", "threads", "eval_batch_size", "cache")

OPTIMIZERS = ("adamw", "sgd", "adadelta")
DEVICES = ("auto", "cpu", "cuda")

# fastText's defaults where they differ from the other models' (Joulin et al.
# 2016 use d = 10 and plain SGD; lr, batch and length were chosen on the dev
# splits of AG News and IMDb train, never on a test set: docs/train.md).
FASTTEXT_DEFAULTS: dict[str, Any] = {
    "embed_dim": 10,
    "lr": 2.0,
    "batch_size": 16,
    # fastText reads whole documents; 1000 words keep ~98% of IMDb reviews whole.
    "max_length": 1000,
}

# Named recipes: option values a preset sets unless the user gives them.
# kim2014 is Kim (2014), "Convolutional Neural Networks for Sentence
# Classification", §2.1/§3.1 and the authors' code: filters 3/4/5 x 100, ReLU,
# max-over-time, dropout 0.5, max-norm 3 on the output weights, mini-batch 50,
# Adadelta (rho 0.95, lr 1), 25 epochs with the dev-best epoch kept, embeddings
# U[-0.25, 0.25], and k-1 zero pads on both sides of a text (every word is seen
# by every position of every filter; short texts fit the widest filter).
PRESETS: dict[str, dict[str, Any]] = {
    "kim2014": {
        "batch_size": 50,
        "optimizer": "adadelta",
        "lr": 1.0,
        "weight_decay": 0.0,
        "scheduler": "constant",
        "warmup_ratio": 0.0,
        "max_norm": 3.0,
        "dropout": 0.5,
        "epochs": 25,
        "embed_dim": 300,
        "embed_init": "uniform",
        "conv_padding": "full",
    },
}


@dataclass
class TrainConfig:
    train: str
    output: str
    model: str = "textcnn"
    loss: str = "ce"
    dev: str | None = None
    dev_split: float = 0.1
    epochs: int = 10
    batch_size: int | None = None
    eval_batch_size: int | None = None
    lr: float | None = None
    optimizer: str | None = None
    weight_decay: float | None = None
    scheduler: str = "linear"
    warmup_ratio: float = 0.0
    max_length: int | None = None
    grad_clip: float = 0.0
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    patience: int = 0
    alpha: float | None = None  # default per loss: ALPHA_DEFAULTS, else ALPHA_DEFAULT
    warmup_epochs: int = 0
    label_smoothing: float | None = None
    vocab_size: int = 50_000
    min_count: int = 1
    tokenizer: str = "words"
    embed_dim: int | None = None
    hidden: int = 128
    ngrams: int = 2
    buckets: int = 2_000_000
    dropout: float | None = None
    max_norm: float = 0.0  # cap on the L2 norm of each output-weight row; 0 = off
    embed_init: str = "normal"
    conv_padding: str = "valid"
    embeddings: str | None = None
    freeze_embeddings: bool = False
    preset: str | None = None
    threads: int | None = None
    drop_empty: bool = False
    cache: bool = True
    labels: list[str] | None = None  # label order of TRAIN's soft_label when metadata is gone

    @property
    def is_hf(self) -> bool:
        return self.model.startswith("hf:")

    @property
    def sparse_embeddings(self) -> bool:
        """fastText's tables get sparse gradients when the optimizer accepts them."""
        return self.model == "fasttext" and self.optimizer == "sgd" and not self.weight_decay

    @property
    def needs_targets(self) -> bool:
        return self.loss in SOFT_LOSSES

    @property
    def ols_epsilon(self) -> float:
        """S_0's smoothing rate for ``--loss ols``."""
        return OLS_EPSILON if self.label_smoothing is None else self.label_smoothing

    def with_preset(
        self, name: str | None, keep: frozenset[str] | set[str] = frozenset()
    ) -> TrainConfig:
        """A copy with preset ``name``'s values, except the options named in ``keep``.

        ``keep`` holds the options the user set explicitly (the CLI passes the
        ones given on the command line); they win over the preset.
        """
        if name is None:
            return dataclasses.replace(self)
        if name not in PRESETS:
            raise UsageError(f"--preset {name!r}: choose one of {', '.join(PRESETS)}")
        if self.is_hf:
            raise UsageError(
                f"--preset {name} is a recipe for the models trained from scratch "
                "(textcnn, lstm, fasttext), not for an hf: model"
            )
        values = {k: v for k, v in PRESETS[name].items() if k not in keep}
        if "optimizer" in keep and self.optimizer != PRESETS[name].get("optimizer"):
            # The preset's lr is its optimizer's (Adadelta's 1.0): another
            # optimizer takes its own default lr unless --lr is given.
            values.pop("lr", None)
        if self.model != "textcnn":
            # Kim's full padding is a TextCNN layer; other models take the rest.
            values.pop("conv_padding", None)
        return dataclasses.replace(self, preset=name, **values)

    def resolved(self) -> TrainConfig:
        """A copy with model-dependent defaults filled in and options checked."""
        c = dataclasses.replace(self)
        for name in ("train", "output", "dev", "embeddings", "preset"):
            check_not_blank(name, getattr(c, name))
        # Absolute paths so a resumed run compares inputs, not spellings.
        c.train = _abspath(c.train)
        c.dev = _abspath(c.dev) if c.dev else None
        c.embeddings = _abspath(c.embeddings) if c.embeddings else None
        check_one_stdin({"TRAIN": c.train, "dev": c.dev})
        if not (c.model in MODELS or (c.is_hf and len(c.model) > 3)):
            raise UsageError(
                f"--model {c.model!r}: use textcnn, lstm, fasttext or hf:PATH_OR_NAME (e.g. hf:minilm)"
            )
        if c.loss not in LOSSES:
            raise UsageError(f"--loss {c.loss!r}: choose one of {', '.join(LOSSES)}")
        if c.alpha is None:
            c.alpha = ALPHA_DEFAULTS.get(c.loss, ALPHA_DEFAULT)
        fasttext = c.model == "fasttext"
        if c.optimizer is None:
            # fastText's own rule is plain SGD on the rows a text uses.
            c.optimizer = "sgd" if fasttext else "adamw"
        if c.weight_decay is None:
            c.weight_decay = 0.0 if fasttext else 0.01
        if c.is_hf:
            # The checkpoint brings its own tokenizer, vocabulary, embeddings and
            # dropout; these options would be recorded in config.json unread.
            given = [
                flag
                for flag, name in HF_UNREAD.items()
                if getattr(c, name) != getattr(TrainConfig, name)
            ]
            if given:
                raise UsageError(
                    f"{given[0]} applies to textcnn, lstm and fasttext; an hf: model brings "
                    "its own tokenizer, vocabulary, embeddings, dropout and output layer"
                )
        elif c.embed_dim is None:
            c.embed_dim = FASTTEXT_DEFAULTS["embed_dim"] if fasttext else 300
        if c.lr is None and fasttext and c.optimizer == "sgd":
            c.lr = FASTTEXT_DEFAULTS["lr"]
        if c.lr is None:
            # Adadelta's step is lr x a self-scaled update; 1.0 is Zeiler's and Kim's.
            c.lr = 1.0 if c.optimizer == "adadelta" else 2e-5 if c.is_hf else 1e-3
        if c.batch_size is None:
            c.batch_size = FASTTEXT_DEFAULTS["batch_size"] if fasttext else 64
        if c.max_length is None:
            c.max_length = 128 if c.is_hf else FASTTEXT_DEFAULTS["max_length"] if fasttext else 256
        if c.dropout is None and not c.is_hf:
            # Kim 2014 for TextCNN; an HF model keeps its own config's dropout.
            c.dropout = 0.5 if c.model == "textcnn" else 0.0 if fasttext else 0.3
        if c.eval_batch_size is None:
            c.eval_batch_size = 128 if c.is_hf else 512
        checks = [
            (c.output != "-", "-o -: a run is a directory, not a stream; give its path"),
            (c.epochs >= 1, "--epochs must be at least 1"),
            (c.batch_size >= 1, "--batch-size must be at least 1"),
            (c.eval_batch_size >= 1, "--eval-batch-size must be at least 1"),
            (c.lr > 0, "--lr must be positive"),
            (c.optimizer in OPTIMIZERS, "--optimizer: choose adamw, sgd or adadelta"),
            (c.scheduler in ("linear", "constant"), "--scheduler: choose linear or constant"),
            (0 <= c.warmup_ratio < 1, "--warmup-ratio must be in [0, 1)"),
            (c.max_length >= 1, "--max-length must be at least 1"),
            (c.grad_clip >= 0, "--grad-clip must be >= 0 (0 turns it off)"),
            (c.weight_decay >= 0, "--weight-decay must be >= 0 (0 turns it off)"),
            (c.device in DEVICES, f"--device: choose {', '.join(DEVICES)}"),
            (c.precision in ("fp32", "bf16"), "--precision: choose fp32 or bf16"),
            (c.patience >= 0, "--patience must be >= 0 (0 turns early stopping off)"),
            (c.alpha >= 0, "--alpha must be >= 0"),
            # The aux losses divide by (1+α)²: beyond this the loss underflows
            # to nothing (and (1+α)² overflows near 1e154).
            (c.alpha <= ALPHA_MAX, f"--alpha must be at most {ALPHA_MAX:g}"),
            (
                c.loss != "ols" or c.alpha <= 1,
                "--alpha must be in [0, 1] for --loss ols (the weight of the hard-label CE)",
            ),
            (
                c.loss != "ols" or c.label_smoothing is None or c.label_smoothing >= 0,
                "--label-smoothing is S_0's rate for --loss ols and must be >= 0",
            ),
            (c.warmup_epochs >= 0, "--warmup-epochs must be >= 0"),
            (
                c.warmup_epochs < c.epochs,
                f"--warmup-epochs {c.warmup_epochs} leaves no epoch after the CE warm-up "
                f"(--epochs {c.epochs}); only post-warm-up epochs are selected, so use "
                "--epochs above --warmup-epochs",
            ),
            (0 < c.dev_split < 1, "--dev-split must be in (0, 1)"),
            (c.vocab_size >= 2, "--vocab-size must be at least 2"),
            (c.min_count >= 1, "--min-count must be at least 1"),
            (c.embed_dim is None or c.embed_dim >= 1, "--embed-dim must be at least 1"),
            (c.hidden >= 1, "--hidden must be at least 1"),
            (c.dropout is None or 0 <= c.dropout < 1, "--dropout must be in [0, 1)"),
            (c.threads is None or c.threads >= 1, "--threads must be at least 1"),
            (c.ngrams in (1, 2), "--ngrams: choose 1 (words) or 2 (words and bigrams)"),
            (c.buckets >= 1, "--buckets must be at least 1"),
            (
                not fasttext
                or c.ngrams == 1
                or c.buckets * (c.embed_dim or 0) * 4 <= _memory_bytes(),
                f"--buckets {c.buckets:,} × --embed-dim {c.embed_dim} float32 vectors "
                f"({c.buckets * (c.embed_dim or 0) * 4 / 2**30:,.1f} GiB) do not fit in this "
                "machine's memory; lower --buckets",
            ),
            (
                fasttext or (c.ngrams, c.buckets) == (TrainConfig.ngrams, TrainConfig.buckets),
                "--ngrams and --buckets apply to --model fasttext",
            ),
            # An option the chosen model or loss does not read is refused, not
            # recorded in config.json as if it had shaped the run.
            (
                c.model == "lstm" or c.hidden == TrainConfig.hidden,
                "--hidden applies to --model lstm",
            ),
            (
                c.model == "textcnn" or c.conv_padding == TrainConfig.conv_padding,
                "--conv-padding applies to --model textcnn",
            ),
            (
                c.dev is None or c.dev_split == TrainConfig.dev_split,
                "--dev-split applies without --dev; with --dev, DEV is the dev set",
            ),
            (
                c.loss in ALPHA_LOSSES or c.alpha == ALPHA_DEFAULTS.get(c.loss, ALPHA_DEFAULT),
                f"--alpha applies to --loss {', '.join(ALPHA_LOSSES)}",
            ),
            (c.max_norm >= 0, "--max-norm must be >= 0 (0 turns it off)"),
            (c.embed_init in ("normal", "uniform"), "--embed-init: choose normal or uniform"),
            (c.conv_padding in ("valid", "full"), "--conv-padding: choose valid or full"),
            (c.preset is None or c.preset in PRESETS, f"--preset: choose {', '.join(PRESETS)}"),
            (
                not c.freeze_embeddings or bool(c.embeddings),
                "--freeze-embeddings needs --embeddings FILE (random vectors would stay random)",
            ),
        ]
        for ok, msg in checks:
            if not ok:
                raise UsageError(msg)
        check_seed(c.seed)
        if c.label_smoothing is not None and c.label_smoothing >= 1:
            raise UsageError("--label-smoothing must be below 1 (negative values give NLS)")
        if c.warmup_epochs and c.loss == "ce" and c.label_smoothing is None:
            raise UsageError("--warmup-epochs only makes sense with a soft-target loss")
        return c

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def _memory_bytes() -> float:
    """The machine's physical memory (inf where the OS does not say)."""
    import os

    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def _abspath(path: str) -> str:
    import os

    return path if path == "-" else os.path.abspath(path)


def resume_conflicts(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Options that differ between the stored run and this invocation."""
    # A run stored before an option existed ran with that option's default.
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    # hf: runs stored before HF_UNREAD was enforced recorded filled-in values there.
    unread = set(HF_UNREAD.values()) if str(now.get("model", "")).startswith("hf:") else set()
    return [
        k
        for k in sorted(set(saved) | set(now))
        if k not in RESUMABLE_CHANGES
        and k not in unread
        and k != "output"
        and saved.get(k, defaults.get(k)) != now.get(k, defaults.get(k))
    ]
