"""The options of `lsctl retrieve train` (torch-free, so bad options fail fast)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from lsctl.errors import UsageError
from lsctl.train.config import ALPHA_MAX

# Far above the scores' scale every logit is ~0 and training cannot move the
# ranking; this leaves room for dot products.
TEMPERATURE_MAX = 1e4

ENCODERS = ("fasttext", "textcnn", "lstm")
SCORES = ("dot", "cos")
TARGETS = ("none", "uniform", "tfidf", "kwls", "distill")
LOSSES = ("ce", "soft", "aux")
DEFAULT_TEMPERATURE = {"dot": 1.0, "cos": 0.05}
# Adam's rate: the averaged fastText vectors need a larger one than the
# convolution and LSTM weights (checked on ReQA-SQuAD's dev fold only).
DEFAULT_LR = {"fasttext": 1e-2, "textcnn": 1e-3, "lstm": 1e-3}


@dataclass
class DualConfig:
    """Every option of ``lsctl retrieve train``; stored in the run's config.json."""

    questions: str
    sentences: str
    output: str
    encoder: str = "fasttext"
    separate_towers: bool = False
    score: str = "cos"
    temperature: float | None = None
    hard_negatives: int = 0
    targets: str = "none"
    label_smoothing: float = 0.1
    teacher: str | None = None
    loss: str | None = None
    alpha: float = 1.0
    epochs: int = 5
    batch_size: int = 64
    lr: float | None = None
    embed_dim: int = 128
    hidden: int = 128
    seed: int = 0
    device: str = "auto"
    train_fold: str = "train"
    dev_fold: str = "dev"

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> DualConfig:
        """The config from a command's keyword arguments (others are ignored)."""
        return cls(**{k: v for k, v in options.items() if k in cls.__dataclass_fields__})

    def resolved(self) -> DualConfig:
        c = copy.copy(self)
        if c.temperature is None:
            c.temperature = DEFAULT_TEMPERATURE.get(c.score, 1.0)
        if c.lr is None:
            c.lr = 2e-5 if c.encoder.startswith("hf:") else DEFAULT_LR.get(c.encoder, 1e-3)
        if c.loss is None:
            c.loss = {"none": "ce", "uniform": "soft"}.get(c.targets, "aux")
        return c

    def validate(self) -> None:
        c = self.resolved()
        if c.encoder.startswith("hf:") and len(c.encoder) == 3:
            raise UsageError("--encoder hf: needs a path or name, e.g. hf:minilm")
        for value, choices, opt in (
            (c.encoder if not c.encoder.startswith("hf:") else "fasttext", ENCODERS, "--encoder"),
            (c.score, SCORES, "--score"),
            (c.targets, TARGETS, "--targets"),
            (c.loss, LOSSES, "--loss"),
        ):
            if value not in choices:
                raise UsageError(f"{opt} {value!r}: choose one of {', '.join(choices)}")
        checks = (
            (c.temperature > 0, "--temperature must be > 0"),
            (
                c.temperature <= TEMPERATURE_MAX,
                f"--temperature must be at most {TEMPERATURE_MAX:g} (scores / T would all be ~0)",
            ),
            (c.hard_negatives >= 0, "--hard-negatives must be >= 0"),
            (0 <= c.label_smoothing < 1, "--label-smoothing must be in [0, 1)"),
            (c.alpha >= 0, "--alpha must be >= 0"),
            (c.alpha <= ALPHA_MAX, f"--alpha must be at most {ALPHA_MAX:g}"),
            (c.epochs >= 1, "--epochs must be at least 1"),
            (c.batch_size >= 2, "--batch-size must be at least 2 (in-batch negatives)"),
            (c.lr > 0, "--lr must be > 0"),
            (c.embed_dim >= 1, "--embed-dim must be at least 1"),
            (c.hidden >= 1, "--hidden must be at least 1"),
            # Options the run would not read are refused, as `lsctl train` does,
            # rather than recorded in config.json as if they had shaped it.
            (
                c.targets == "uniform" or c.label_smoothing == DualConfig.label_smoothing,
                "--label-smoothing applies to --targets uniform",
            ),
            (c.loss == "aux" or c.alpha == DualConfig.alpha, "--alpha applies to --loss aux"),
            (
                c.encoder == "lstm" or c.hidden == DualConfig.hidden,
                "--hidden applies to --encoder lstm",
            ),
            (
                not c.encoder.startswith("hf:") or c.embed_dim == DualConfig.embed_dim,
                "--embed-dim applies to the scratch encoders (an hf: encoder has its own width)",
            ),
        )
        for ok, msg in checks:
            if not ok:
                raise UsageError(msg)
        if c.device not in ("auto", "cpu") and not c.device.startswith("cuda"):
            raise UsageError(f"--device {c.device!r}: choose auto, cpu or cuda")
        if (c.targets == "distill") != (c.teacher is not None):
            raise UsageError("--teacher RUN goes with --targets distill, and only with it")
        if c.targets == "none" and c.loss != "ce":
            raise UsageError(f"--loss {c.loss} needs soft targets; use --targets uniform|tfidf|…")
        if c.targets != "none" and c.loss == "ce":
            raise UsageError(f"--targets {c.targets} needs --loss soft or aux")
