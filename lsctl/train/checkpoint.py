"""``RUN/checkpoint/state.pt``: everything ``--resume`` needs to continue bit-for-bit on CPU.

One file, written to a temporary name and renamed, so a crash or a second
Ctrl-C never leaves a half checkpoint.
"""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
import torch

from lsctl.errors import LsctlError

STATE = "state.pt"
FORMAT = 1


def rng_state() -> dict[str, Any]:
    state = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def path(run: str) -> str:
    return os.path.join(run, "checkpoint", STATE)


def save(run: str, state: dict[str, Any]) -> None:
    directory = os.path.join(run, "checkpoint")
    os.makedirs(directory, exist_ok=True)
    from lsctl.artifacts.io import atomic_path

    with atomic_path(os.path.join(directory, STATE)) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)


def load(run: str) -> dict[str, Any]:
    target = path(run)
    if not os.path.exists(target):
        raise LsctlError(
            f"{run}: no checkpoint to resume from ({target} is missing); start without --resume"
        )
    try:
        # Our own file: it holds numpy and python RNG states, which need full unpickling.
        state = torch.load(target, map_location="cpu", weights_only=False)
    except Exception as e:
        raise LsctlError(f"{target}: cannot read the checkpoint ({e})") from e
    if state.get("format") != FORMAT:
        raise LsctlError(f"{target}: checkpoint format {state.get('format')} is not supported")
    return state
