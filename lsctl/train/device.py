"""Where training and prediction run: device choice and mixed precision (torch)."""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from lsctl.errors import LsctlError


def auto_device() -> str:
    """``cuda`` when a CUDA device is visible, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(device: str) -> torch.device:
    """``auto``, ``cpu`` or ``cuda[:N]`` as a torch device; a clear error when CUDA is absent."""
    if device == "auto":
        return torch.device(auto_device())
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise LsctlError("--device cuda: no CUDA device is visible; use --device cpu or auto")
    if device not in ("cpu",) and not device.startswith("cuda"):
        raise LsctlError(f"--device {device!r}: choose auto, cpu or cuda")
    return torch.device(device)


def autocast(device: torch.device, precision: str) -> Any:
    """bf16 autocast on CUDA under ``precision="bf16"``; otherwise no change."""
    if precision == "bf16" and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
