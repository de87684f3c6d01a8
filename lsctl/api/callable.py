"""Subpackages that are also API functions: ``lsctl.train(...)`` and ``lsctl.evaluate(...)``.

``lsctl.train`` names both the training subpackage and the API function. An
imported subpackage always wins the attribute on its parent, so the package
module itself is made callable: calling it runs the API function, while
``lsctl.train.loop`` and friends stay importable as before.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


def make_callable(module_name: str, target: str) -> None:
    """Calling the module ``module_name`` calls ``target`` (``"pkg.mod.func"``), imported lazily."""
    where, func = target.rsplit(".", 1)

    class CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return getattr(importlib.import_module(where), func)(*args, **kwargs)

        @property
        def __signature__(self) -> Any:
            # inspect.signature() and notebook help show the function's
            # parameters, not (*args, **kwargs); imported only when asked.
            import inspect

            return inspect.signature(getattr(importlib.import_module(where), func))

    CallableModule.__call__.__doc__ = f"Run :func:`{target}` (see its docstring)."
    sys.modules[module_name].__class__ = CallableModule
