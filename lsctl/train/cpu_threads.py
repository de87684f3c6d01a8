"""CPU thread defaults that keep training fast when other work shares the cores.

torch's CPU kernels run on GNU OpenMP (libgomp). Between parallel regions its
worker threads spin-wait for up to ``GOMP_SPINCOUNT`` iterations (300,000 by
default) before they sleep. One process alone loses nothing by spinning, but
two training processes on the same cores burn each other's time slices:
measured on 2 cores with two concurrent TextCNN runs, each kept 0.19× of its
solo examples/s with the default spin count, and 0.50× with a spin count of
1,000, while a run alone was as fast as before (``benchmarks/shared_cores.py``).

libgomp reads its environment once, when torch loads it, so the default has
to be in ``os.environ`` before the first ``import torch``; this module is
imported by ``lsctl/train/__init__.py`` for that reason. A value the user set
(``GOMP_SPINCOUNT`` or ``OMP_WAIT_POLICY``) is never overridden.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

# Short enough that a waiting thread yields its core within microseconds,
# long enough that a solo run keeps its throughput (see the module docstring).
SPINCOUNT = "1000"


def configure_openmp(environ: MutableMapping[str, str] | None = None) -> bool:
    """Set lsctl's OpenMP wait default unless the user chose one, or torch is loaded.

    Parameters
    ----------
    environ : mapping, optional
        The environment to change; ``os.environ`` by default.

    Returns
    -------
    bool
        True when the default was set; False when the user's own setting stands
        or torch (and so libgomp) was already imported, when it would be too late.

    Examples
    --------
    >>> env = {}
    >>> configure_openmp(env) or "torch" in sys.modules
    True
    >>> configure_openmp({"OMP_WAIT_POLICY": "active"})
    False
    """
    env = os.environ if environ is None else environ
    if environ is None and "torch" in sys.modules:
        return False
    if "GOMP_SPINCOUNT" in env or "OMP_WAIT_POLICY" in env:
        return False
    env["GOMP_SPINCOUNT"] = SPINCOUNT
    return True
