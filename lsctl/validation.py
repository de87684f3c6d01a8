"""The one parameter validator of the core and the Python API.

A bad parameter value raises :class:`ParameterError`, whose message names the
parameter the way the caller spelled it: ``rate=1.5 must be below 1`` from
Python, ``--rate 1.5 must be below 1`` from the command line. The core writes
one template per rule; the CLI re-renders it with its flag names
(:func:`lsctl.cli.common.cli_message`), so the two never drift apart.

Templates are :meth:`str.format` strings over the parameters involved:

- ``{rate}``: the parameter with its value (``rate=1.5`` / ``--rate 1.5``);
- ``{rate:n}``: its name alone (``rate`` / ``--rate``);
- ``{rate:v=-0.2}``: the parameter with another value, for examples
  (``rate=-0.2`` / ``--rate -0.2``).
"""

from __future__ import annotations

import math
import numbers
import operator
import string
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any

from lsctl.errors import UsageError

# A name and value -> how the caller writes them (``rate=1.5`` or ``--rate 1.5``).
Spelling = Callable[[str, Any], str]
# A name -> how the caller writes the bare name (``rate`` or ``--rate``).
Naming = Callable[[str], str]


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def literal(text: str) -> str:
    """``text`` as it reads inside a template: braces doubled, so it is not a field.

    >>> literal("{'a': 1}")
    "{{'a': 1}}"
    """
    return text.replace("{", "{{").replace("}", "}}")


def python_spelling(name: str, value: Any) -> str:
    """``rate=1.5``; strings quoted as Python writes them (``kind='pairflip'``)."""
    return f"{name}={_plain(value)!r}"


def python_naming(name: str) -> str:
    return name


class _Formatter(string.Formatter):
    def __init__(self, params: Mapping[str, Any], spell: Spelling, name: Naming) -> None:
        self.params, self.spell, self.name = params, spell, name

    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        return key

    def format_field(self, key: Any, spec: str) -> str:
        if spec == "n":
            return self.name(key)
        if spec.startswith("v="):
            # An example value from the template: a number is shown as typed,
            # a word as the string it is (``kind='pairflip'``).
            text = spec[2:]
            try:
                float(text)
            except ValueError:
                return self.spell(key, text)
            return self.spell(key, _Literal(text))
        return self.spell(key, self.params[key])


class _Literal(str):
    """An example value from a template: shown as written, not quoted by ``repr``."""

    def __repr__(self) -> str:
        return str(self)


class ParameterError(UsageError):
    """A parameter value out of its range, or parameters that contradict each other.

    ``template`` says what is wrong in terms of ``params`` (name → value); see
    the module docstring. ``str(err)`` spells the parameters as Python does;
    :meth:`render` spells them as another interface does.
    """

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(self.render(python_spelling, python_naming))

    @property
    def param(self) -> str:
        """The first parameter the message is about."""
        return next(iter(self.params))

    def render(self, spell: Spelling, name: Naming) -> str:
        return _Formatter(self.params, spell, name).format(self.template)


def check_one_stdin(inputs: Mapping[str, Any]) -> None:
    """Refuse ``-`` (stdin) for a second input: a pipe carries one artifact.

    ``inputs`` maps each input to its path, in the order they are read; a name
    in capitals is a positional argument (``DATA``), the rest are parameters.
    Without this the second reader finds stdin drained and blames the pipe.

    >>> check_one_stdin({"TRAIN": "-", "dev": "-"})
    Traceback (most recent call last):
    ...
    lsctl.validation.ParameterError: dev='-': TRAIN already reads stdin; give this one as a file
    """
    readers = [name for name, path in inputs.items() if path == "-"]
    if len(readers) > 1:
        first, second = readers[:2]
        who = first if first.isupper() else f"{{{first}:n}}"
        raise ParameterError(
            f"{{{second}}}: {who} already reads stdin; give this one as a file", **{second: "-"}
        )


def check_not_blank(name: str, value: Any) -> Any:
    """``value`` unless it is an empty or all-space string (None means "not given").

    An empty name would otherwise read as "not given" in one place and be
    recorded as ``''`` in another.

    >>> check_not_blank("label_col", " ")
    Traceback (most recent call last):
    ...
    lsctl.validation.ParameterError: label_col is empty; give a value or leave it out
    """
    if isinstance(value, str) and not value.strip():
        raise ParameterError(
            f"{{{name}:n}} is empty; give a value or leave it out", **{name: value}
        )
    return value


def check_finite(name: str, value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(f"{{{name}}} is not a finite number", **{name: value})


def check_range(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    hint: str = "",
    whole: bool = False,
) -> Any:
    """Refuse ``value`` outside the interval (and NaN or ±inf); return it unchanged.

    Any real number counts (NumPy scalars too); ``whole`` asks for an integer.
    ``hint`` is appended to the message (a template too, e.g. ``"(e.g. {rate:v=0.2})"``).

    >>> check_range("cross_fit", 2.5, low=2, whole=True)
    Traceback (most recent call last):
    ...
    lsctl.validation.ParameterError: cross_fit=2.5 must be a whole number
    """
    if value is None:
        raise ParameterError(f"{{{name}:n}} is required {hint}".rstrip(), **{name: value})
    check_number(name, value, whole)
    ok = math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if ok:
        return value
    if low is not None and high is not None:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        rule = f"is outside {lo}{_num(low)}, {_num(high)}{hi}"
    elif low is not None:
        rule = f"must be {'>' if low_open else '>='} {_num(low)}"
    elif high is not None:
        rule = f"must be {'below' if high_open else 'at most'} {_num(high)}"
    else:
        rule = "is not a finite number"
    raise ParameterError(f"{{{name}}} {rule}{(' ' + hint) if hint else ''}", **{name: value})


def check_number(name: str, value: Any, whole: bool = False) -> Any:
    """``value`` if it is a real number (NumPy scalars too; an integer when ``whole``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(
            f"{{{name}}} must be a number, not {type(value).__name__}", **{name: value}
        )
    if whole and not isinstance(value, numbers.Integral):
        raise ParameterError(f"{{{name}}} must be a whole number", **{name: value})
    return value


# Seeds are 32-bit, as NumPy's legacy seeding and most tools take them; the
# training loop derives per-epoch seeds from them (seed * 1,000,003 + epoch).
SEED_MAX = 2**32 - 1


def check_seed(value: Any, name: str = "seed") -> int:
    """``value`` as an int if it is a whole number in [0, 2^32 - 1]; else a clear error.

    >>> check_seed(7)
    7
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    lsctl.validation.ParameterError: seed=-1 must be a whole number from 0 to 4294967295
    """
    try:
        ok = not isinstance(value, bool) and 0 <= operator.index(value) <= SEED_MAX
    except TypeError:
        ok = False
    if not ok:
        raise ParameterError(
            f"{{{name}}} must be a whole number from 0 to {SEED_MAX}", **{name: value}
        )
    return int(value)


def check_bool(name: str, value: Any, optional: bool = False) -> Any:
    """``value`` if it is True or False (or None when ``optional``); else a clear error.

    A string is not a switch: ``"no"`` and ``"false"`` are truthy in Python.
    """
    if value is None and optional:
        return None
    if not isinstance(value, bool):
        import numpy as np

        if isinstance(value, np.bool_):
            return bool(value)
        raise ParameterError(
            f"{{{name}}} must be True or False, not {type(value).__name__}", **{name: value}
        )
    return value


def check_type(name: str, value: Any, kind: type, text: tuple[type, ...] = (str,)) -> Any:
    """``value`` if it is of the declared ``kind``: bool, int (a whole number), float,
    or str (an instance of ``text``); else a clear error.

    A Python caller's 2.5 folds or ``"no"`` switch is refused, not truncated or
    read as True (the command line parses these before they get here).
    """
    if kind is bool:
        return check_bool(name, value)
    if kind in (int, float):
        return check_number(name, value, whole=kind is int)
    if kind is str and not isinstance(value, text):
        raise ParameterError(
            f"{{{name}}} must be a string, not {type(value).__name__}", **{name: value}
        )
    return value


def check_sequence(name: str, value: Any, what: str) -> None:
    """Refuse a string (its characters would pass for items) or a value that is not a sequence.

    ``what`` says what the items are, for the error: ``"one label per row"``.

    >>> check_sequence("labels", "ab", "one label per row")
    Traceback (most recent call last):
    lsctl.validation.ParameterError: labels is one string, 'ab'; give one label per row as a list, array or Series
    """
    if isinstance(value, (str, bytes)):
        raise ParameterError(
            f"{{{name}:n}} is one string, {literal(repr(value[:40]))}; give {what} as a "
            "list, array or Series",
            **{name: None},
        )
    try:
        iter(value)
    except TypeError:
        raise ParameterError(
            f"{{{name}:n}} must be {what} (a list, array or Series), not {type(value).__name__}",
            **{name: None},
        ) from None


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` (a string or an Enum member) if it is one of ``choices``; else a clear error."""
    choices = list(choices)
    plain = _plain(value)
    if plain not in choices:
        raise ParameterError(
            f"unknown {{{name}}}; choose one of {', '.join(choices)}", **{name: plain}
        )
    return plain


def _num(x: float) -> str:
    """A bound as people write it: ``1``, ``0.75``, ``4294967295``, ``1e+12``."""
    return f"{x:.12g}"
