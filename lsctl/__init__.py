"""lsctl: label-smoothing experiments for text classification, from the shell and from Python.

``import lsctl`` is light: the API functions below are loaded on first use
(PEP 562), and torch only by training, evaluation and :mod:`lsctl.losses`.
docs/api.md has worked examples.

- ``soft_labels``, ``label_order``: soft labels for pandas, polars, Arrow tables;
- ``kwls``, ``tfidf``, ``uniform``, ``nls``: soft labels for arrays;
- ``keyword_stats``, ``add_noise``, ``undersample``, ``split``;
- ``train``, ``evaluate``, ``compare``: runs from paths or tables;
- ``losses``: soft cross-entropy, the KWLS auxiliary loss, smoothed targets,
  and an HF ``Trainer`` loss for a ``soft_label`` column.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "soft_labels": "lsctl.api.tables",
    "label_order": "lsctl.api.tables",
    "kwls": "lsctl.api.arrays",
    "tfidf": "lsctl.api.arrays",
    "uniform": "lsctl.api.arrays",
    "nls": "lsctl.api.arrays",
    "keyword_stats": "lsctl.api.arrays",
    "add_noise": "lsctl.api.arrays",
    "undersample": "lsctl.api.arrays",
    "split": "lsctl.api.arrays",
    "compare": "lsctl.api.runs",
    "LsctlError": "lsctl.errors",
    "ParameterError": "lsctl.validation",
}
# Subpackages that are also callable API functions (lsctl.api.callable), and losses.
_MODULES = ("train", "evaluate", "losses")

__all__ = ["__version__", *_EXPORTS, *_MODULES]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # The public names only: not this module's own imports (importlib, Any,
    # annotations), which tab completion in a notebook would otherwise offer.
    return sorted(__all__)
