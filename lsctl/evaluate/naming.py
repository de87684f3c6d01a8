"""A run's default system name: its folder without the seed marker.

``runs/kwls-s1`` … ``runs/kwls-s5`` are one system, ``kwls``, with five seeds:
``lsctl eval`` names its predictions so and ``lsctl plot curves`` groups by it,
so ``lsctl compare preds/*.parquet`` pairs seeds without ``--name``.
"""

from __future__ import annotations

import os
import re


def system_name(run_dir: str, seed: int | None) -> str:
    """The run folder's name without a trailing seed marker (``-s1``, ``_seed1``, ``1``).

    An ``s`` or ``seed`` counts as part of the marker only after a separator,
    so ``kwls1`` is ``kwls`` (not ``kwl``), and the seed's digits only as a
    whole number (``kwls10`` with seed 0 stays ``kwls10``). A folder that is
    nothing but the marker keeps its name.

    Examples
    --------
    >>> system_name("runs/kwls-s3", 3), system_name("runs/ce_seed1/", 1), system_name("x/kwls1", 1)
    ('kwls', 'ce', 'kwls')
    >>> system_name("runs/kwls10", 0), system_name("runs/kwls-s2", 3), system_name("runs/1", 1)
    ('kwls10', 'kwls-s2', '1')
    """
    folder = os.path.basename(os.path.normpath(os.path.abspath(run_dir)))
    if seed is not None:
        marker = rf"(?:[-_.](?:seed|s)[-_.]?|[-_.]|(?<!\d))0*{seed}$"
        stripped = re.sub(marker, "", folder)
        if stripped:
            return stripped
    return folder
