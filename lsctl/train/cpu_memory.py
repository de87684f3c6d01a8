"""Let glibc reuse the large blocks a CPU training step frees, instead of unmapping them.

glibc serves every allocation above its mmap threshold (at most 32 MiB) with a
fresh ``mmap`` and returns it to the kernel on ``free``. A TextCNN step on a
50,000-word vocabulary allocates a 60 MB embedding gradient (``vocab x 300``
floats) and frees it a step later, so every step pays the page faults of a
fresh 60 MB mapping (15,000 with 4 KiB pages) and the kernel's zeroing of it;
with two trainings on two cores that traffic also slows the other process.
With mmap off for the main arena and a high trim threshold, the freed block
stays in the heap and the next step reuses it. ``python benchmarks/adadelta.py`` on these 2 cores: a Kim-recipe
TextCNN step on 20 Newsgroups took 389 instead of 418 ms alone, and 379
instead of 451 ms with another training on the other core; peak memory rose
by ~1%. Values are unchanged: only where memory comes from differs.

The settings are glibc's ``mallopt`` (Linux); elsewhere nothing changes. They
hold for the training loop only: afterwards glibc's defaults come back and the
kept memory is returned (``malloc_trim``). A user who tunes malloc through
its environment variables keeps that tuning.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# mallopt parameter numbers and glibc's defaults (malloc/malloc.h).
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
DEFAULT_TRIM_THRESHOLD, DEFAULT_MMAP_MAX = 128 * 1024, 65536
# Above any one step's working set, so freed blocks stay for the next step.
HOLD_TRIM_THRESHOLD = 1 << 30
USER_SETTINGS = (
    "MALLOC_MMAP_MAX_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "GLIBC_TUNABLES",
)


def _glibc() -> Any | None:
    """The C library when it is glibc (it has ``gnu_get_libc_version``); else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    if not all(hasattr(libc, f) for f in ("gnu_get_libc_version", "mallopt", "malloc_trim")):
        return None  # musl and other C libraries
    return libc


@contextmanager
def reuse_large_blocks(environ: dict[str, str] | None = None) -> Iterator[bool]:
    """Within the block, freed large allocations are kept and reused (glibc only).

    Parameters
    ----------
    environ : mapping, optional
        Where to look for the user's own malloc settings; ``os.environ`` by default.

    Yields
    ------
    bool
        True when the settings were applied; False on another C library, or
        when the user set ``MALLOC_*`` or ``GLIBC_TUNABLES`` (their choice stands).

    Examples
    --------
    >>> with reuse_large_blocks({"MALLOC_MMAP_MAX_": "0"}) as applied:
    ...     applied
    False
    """
    env = os.environ if environ is None else environ
    libc = None if any(v in env for v in USER_SETTINGS) else _glibc()
    if libc is None:
        yield False
        return
    libc.mallopt(M_MMAP_MAX, 0)
    libc.mallopt(M_TRIM_THRESHOLD, HOLD_TRIM_THRESHOLD)
    try:
        yield True
    finally:
        libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
        libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
        libc.malloc_trim(0)
