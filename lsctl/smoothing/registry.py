"""Soft-label methods by name, discovered from the modules of ``lsctl.smoothing``.

Every public module of the package is imported once and each
:class:`~lsctl.smoothing.base.Method` subclass defined in it with a ``name``
is registered; adding a method is adding one module. Method modules import
heavy libraries inside functions, so discovery stays cheap.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from lsctl.errors import UsageError
from lsctl.smoothing.base import Method

_SKIP = {"base", "registry"}
_methods: dict[str, type[Method]] | None = None


def _discover() -> dict[str, type[Method]]:
    import lsctl.smoothing as pkg

    found: dict[str, type[Method]] = {}
    for mod_info in pkgutil.iter_modules(pkg.__path__):
        if mod_info.name in _SKIP or mod_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{pkg.__name__}.{mod_info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, Method)
                and obj is not Method
                and obj.__module__ == module.__name__
                and obj.name
            ):
                if obj.name in found:
                    raise RuntimeError(
                        f"soft-label method {obj.name!r} is defined twice "
                        f"({found[obj.name].__module__}, {module.__name__})"
                    )
                found[obj.name] = obj
    return found


def methods() -> dict[str, type[Method]]:
    global _methods
    if _methods is None:
        _methods = _discover()
    return dict(_methods)


def names() -> list[str]:
    return sorted(methods())


def get(name: str) -> type[Method]:
    found = methods()
    if name not in found:
        raise UsageError(f"unknown --method {name!r}; choose one of {', '.join(sorted(found))}")
    return found[name]


def register(cls: type[Method]) -> type[Method]:
    """Add a method defined outside ``lsctl.smoothing`` (a plugin, a test); usable as a decorator.

    Commands built afterwards (``lsctl.cli.softlabel.build_command``) offer its
    options; ``lsctl.soft_labels`` accepts it at once.
    """
    found = methods()
    if not cls.name or cls.name in found:
        raise RuntimeError(f"soft-label method {cls.name!r} is unnamed or already registered")
    _methods[cls.name] = cls  # type: ignore[index]
    return cls


def unregister(name: str) -> None:
    """Remove a method added by :func:`register`."""
    methods()
    _methods.pop(name, None)  # type: ignore[union-attr]
