"""The Python API behind ``import lsctl``: the same core the commands call.

``lsctl/__init__.py`` re-exports these functions lazily (PEP 562), so
``import lsctl`` stays light; torch is imported only by training, evaluation
and :mod:`lsctl.losses`. docs/api.md has worked examples.

- :mod:`lsctl.api.tables`: :func:`soft_labels` on pandas, polars or Arrow tables.
- :mod:`lsctl.api.arrays`: :func:`kwls`, :func:`tfidf`, :func:`uniform`,
  :func:`nls`, :func:`keyword_stats`, :func:`add_noise`, :func:`undersample`,
  :func:`split` on sequences and NumPy arrays.
- :mod:`lsctl.api.runs`: :func:`train`, :func:`evaluate`, :func:`compare`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def one_command(fn: F) -> F:
    """An API call is one command: the inputs it reads are guarded only while it runs.

    lsctl refuses to write an output over an input of the same command; the
    CLI forgets the inputs when a command ends, and so does each API call.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from lsctl.artifacts.io import input_scope
        from lsctl.errors import UsageError
        from lsctl.validation import ParameterError

        with input_scope():
            try:
                return fn(*args, **kwargs)
            except ParameterError:
                raise
            except UsageError as e:
                # Checks shared with the CLI speak its flags; from Python, name the
                # keyword argument instead (--batch-size → batch_size).
                raise ParameterError(_python_names(str(e))) from None

    return wrapper  # type: ignore[return-value]


def _python_names(message: str) -> str:
    """``message`` with ``--flag-name`` spelled ``flag_name``, as a literal template.

    >>> _python_names("--epochs must be at least 1 (--warmup-epochs {2})")
    'epochs must be at least 1 (warmup_epochs {{2}})'
    """
    import re

    from lsctl.validation import literal

    return literal(
        re.sub(r"(?<![\w-])--([a-z][a-z0-9-]*)", lambda m: m.group(1).replace("-", "_"), message)
    )
