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

    A keyword argument passed as None counts as not given: it takes the
    function's default, and one bound for ``**options`` is dropped (the core
    then uses its own default). Required parameters keep their None, which
    their checks refuse by name.
    """
    import inspect

    signature = inspect.signature(fn)
    defaults = {
        name: p.default
        for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty and p.default is not None
    }
    catch_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    declared = set(signature.parameters)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from lsctl.artifacts.io import input_scope
        from lsctl.errors import LsctlError, UsageError
        from lsctl.validation import ParameterError, literal

        kwargs = {
            k: v
            for k, v in kwargs.items()
            if v is not None or not (k in defaults or (catch_all and k not in declared))
        }
        before = set(_TABLES)
        with input_scope():
            try:
                return fn(*args, **kwargs)
            except ParameterError as e:
                # Already named as Python names it; only the advice and the
                # temporary tables are the command line's.
                e.args = (_python_advice(table_names(str(e))), *e.args[1:])
                raise
            except UsageError as e:
                # Checks shared with the CLI speak its flags; from Python, name the
                # keyword argument instead (--batch-size → batch_size).
                raise ParameterError(literal(_python_message(str(e)))) from None
            except LsctlError as e:
                # The same for the core's other errors ("--convention k-1 needs at
                # least 2 labels"); the error keeps its type and attributes.
                e.args = (_python_message(str(e)), *e.args[1:])
                raise
            finally:
                for path in set(_TABLES) - before:
                    del _TABLES[path]

    return wrapper  # type: ignore[return-value]


def warn_user(message: str) -> None:
    """A core warning as a Python ``UserWarning``, pointing at the caller's line.

    The CLI prints the core's warnings; from Python they are warnings a
    notebook shows (and ``warnings.catch_warnings`` can silence), said as the
    API names things.
    """
    import os
    import sys
    import warnings

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(_python_message(message), UserWarning, stacklevel=level)


# Tables passed to the API are written to temporary artifacts for the core to
# read; an error names the argument, not the temporary path (which is gone).
_TABLES: dict[str, str] = {}


def table_file(path: str, argument: str) -> str:
    """Record that ``path`` is a temporary file holding the table given as ``argument``."""
    _TABLES[path] = argument
    return path


def table_names(message: str) -> str:
    """``message`` (or a path) with each temporary table path replaced by its argument's name.

    >>> table_names(table_file("/tmp/x/dev.parquet", "calibrate") + ": no column 'text'")
    "calibrate (a table): no column 'text'"
    """
    for path, argument in _TABLES.items():
        message = message.replace(path, f"{argument} (a table)")
    return message


def named_tables(value: Any) -> Any:
    """``value`` (a record: dicts, lists, strings) with temporary table paths named as arguments.

    A run's or an artifact's records outlive the call; the temporary files
    they name do not, so they say what the caller gave instead.

    >>> named_tables({"inputs": [{"path": table_file("/tmp/x/data.parquet", "data")}], "n": 3})
    {'inputs': [{'path': 'data (a table)'}], 'n': 3}
    """
    if isinstance(value, str):
        return table_names(value)
    if isinstance(value, dict):
        return {k: named_tables(v) for k, v in value.items()}
    if isinstance(value, list):
        return [named_tables(v) for v in value]
    return value


# CLI flags whose keyword argument is spelled differently.
_KEYWORD_OF_FLAG = {"pair": "pairs"}

# The core's advice that names a command; from Python, the call that does it.
_PYTHON_ADVICE = {
    "`lsctl eval --name`": "name= of lsctl.evaluate (or a dict of system name → predictions)",
    "`lsctl eval RUN DATA -o PREDS`": "lsctl.evaluate(run, data)",
    "drop those rows with `lsctl data import FILE -o OUT.parquet --drop-empty`": (
        "drop or fill those rows first"
    ),
}


def _python_advice(message: str) -> str:
    """``message`` with each command it advises replaced by the Python call that does it."""
    for command, call in _PYTHON_ADVICE.items():
        message = message.replace(command, call)
    return message


def _python_message(message: str) -> str:
    """A core error as the API says it: its arguments' names, keywords and calls.

    >>> path = table_file("/tmp/x/dev.parquet", "calibrate")
    >>> _python_message(f"--calibrate {path}: DEV is the training data")
    'calibrate (a table): DEV is the training data'
    >>> _python_message("two files of one system; tell them apart with `lsctl eval --name`")
    'two files of one system; tell them apart with name= of lsctl.evaluate (or a dict of system name → predictions)'
    """
    import re

    message = _python_names(table_names(_python_advice(message)))
    # "--calibrate PATH" became "calibrate calibrate (a table)": say the name once.
    return re.sub(r"(?<![\w-])(\w+) \1 \(a table\)", r"\1 (a table)", message)


def _python_names(message: str) -> str:
    """``message`` with ``--flag-name`` spelled as its keyword argument, ``flag_name``.

    Text in backticks is a command line to run, and keeps its flags.

    >>> _python_names("--epochs must be at least 1 (--warmup-epochs 2)")
    'epochs must be at least 1 (warmup_epochs 2)'
    >>> _python_names("--pair 'a:a' maps 'a' to itself; see `lsctl noise --pair A:B`")
    "pairs 'a:a' maps 'a' to itself; see `lsctl noise --pair A:B`"
    >>> _python_names("run: continue it with --resume or choose another -o")
    'run: continue it with resume or choose another output'
    """
    import re

    def keyword(m: re.Match[str]) -> str:
        name = m.group(1).replace("-", "_")
        return _KEYWORD_OF_FLAG.get(name, name)

    parts = message.split("`")
    # Even parts are outside backticks (an unpaired one leaves the rest as is).
    for i in range(0, len(parts) - (len(parts) % 2 == 0), 2):
        parts[i] = re.sub(r"(?<![\w-])--([a-z][a-z0-9-]*)", keyword, parts[i])
        parts[i] = re.sub(r"(?<![\w-])-o(?![\w-])", "output", parts[i])  # train's output=
    return "`".join(parts)
