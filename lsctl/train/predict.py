"""Load a finished run and compute logits: the contract ``lsctl eval`` builds on.

p = load_predictor("runs/trec-cnn")
p.labels                     # ordered label names
p.config                     # config.json as a dict
z = p.logits(texts)          # N×K float32 numpy, eval mode, no grad
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from lsctl.errors import LsctlError
from lsctl.progress import Progress, ensure
from lsctl.train.device import autocast, resolve_device


@torch.no_grad()
def compute_logits(
    model: torch.nn.Module,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    device: torch.device,
    batch_size: int,
    precision: str = "fp32",
    progress: Progress | None = None,
    description: str = "predicting",
) -> torch.Tensor:
    """N×K float32 logits on the CPU; batches are length-sorted to waste little padding."""
    from lsctl.train.features import batch

    was_training = model.training
    model.eval()
    order = torch.argsort(lengths, descending=True, stable=True)
    out = torch.empty((len(lengths), 0))
    chunks = []
    try:
        with ensure(progress).task(description, total=len(lengths)) as task:
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                sub, mask = batch(ids, lengths, idx)
                with autocast(device, precision):
                    logits, _ = model(sub.to(device), mask.to(device))
                chunks.append(logits.float().cpu())
                task.advance(len(idx))
    finally:
        model.train(was_training)
    if chunks:
        out = torch.cat(chunks)
        out[order] = out.clone()
    return out


class Predictor:
    def __init__(
        self,
        model: torch.nn.Module,
        encoder: Any,
        labels: list[str],
        config: dict[str, Any],
        device: torch.device,
    ) -> None:
        self.model, self.encoder, self.device = model, encoder, device
        self.labels, self.config = labels, config

    def logits(
        self, texts: list[str], batch_size: int = 256, progress: Progress | None = None
    ) -> np.ndarray:
        ids, lengths = self.encoder(list(texts), progress)
        precision = self.config.get("options", {}).get("precision", "fp32")
        z = compute_logits(self.model, ids, lengths, self.device, batch_size, precision, progress)
        return z.numpy().astype(np.float32, copy=False)


def load_predictor(run_dir: str, device: str = "auto") -> Predictor:
    """The dev-selected model of a run, ready for inference."""
    from lsctl.train import run_dir as rd
    from lsctl.train.features import HFEncoder, WordEncoder
    from lsctl.train.models import build_scratch, load_hf
    from lsctl.train.vocab import Vocab

    if not os.path.isdir(run_dir):
        raise LsctlError(f"{run_dir}: no such run directory")
    config = rd.read_config(run_dir)
    labels = list(config["labels"])
    info = config["model"]
    max_length = int(config["options"]["max_length"])
    dev = resolve_device(device)
    if info["type"] == "hf":
        path = os.path.join(run_dir, rd.HF_DIR)
        if not os.path.isdir(path):
            raise LsctlError(f"{run_dir}: no {rd.HF_DIR}/; the run has not finished an epoch yet")
        model, tokenizer = load_hf(path, None)
        encoder: Any = HFEncoder(tokenizer, max_length)
    else:
        vocab = Vocab.load(os.path.join(run_dir, rd.VOCAB))
        model = build_scratch(
            info["type"],
            len(vocab),
            len(labels),
            info["embed_dim"],
            info.get("hidden", 128),
            info["dropout"],
            conv_padding=info.get("conv_padding", "valid"),
            **{k: info[k] for k in ("ngrams", "buckets") if k in info},
        )
        try:
            model.load_state_dict(rd.load_weights(run_dir))
        except RuntimeError as e:
            raise LsctlError(
                f"{run_dir}: the weights do not fit the model in config.json ({e})"
            ) from e
        encoder = WordEncoder(vocab, max_length)
    model.to(dev).eval()
    return Predictor(model, encoder, labels, config, dev)
