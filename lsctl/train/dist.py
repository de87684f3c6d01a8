"""Data parallelism through ``torch.distributed``, set up from the launcher's env.

``torchrun`` and ``accelerate launch`` both export RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR and MASTER_PORT; reading them directly keeps one code
path for both launchers and for tests that call ``init_process_group`` themselves.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def launched() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device: str) -> None:
    """Join the process group a launcher prepared (gloo on CPU, nccl on CUDA)."""
    if dist.is_initialized() or not launched():
        return
    backend = "nccl" if device.startswith("cuda") else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank())
    dist.init_process_group(backend)


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world() -> int:
    return dist.get_world_size() if active() else 1


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def any_flag(flag: torch.Tensor) -> bool:
    """True when any rank raised the flag (keeps ranks stepping in lockstep)."""
    if active():
        flag = flag.clone()
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())


def all_sum(value: torch.Tensor) -> torch.Tensor:
    if active():
        value = value.clone()
        dist.all_reduce(value)
    return value


def barrier() -> None:
    if active():
        dist.barrier()
