"""Typed parameter declarations: name, type, default, range, choices and help, written once.

A soft-label method lists its parameters as :class:`Param` objects
(``Method.options``). From that one list come:

- validation (:meth:`Param.check`, errors naming the parameter: ``k1=0 must be > 0``);
- the metadata an output records (``Method.param_names``);
- the ``lsctl softlabel`` options, their help and shell completion
  (:mod:`lsctl.cli.softlabel` builds them), hence docs/cli.md;
- the keyword arguments ``lsctl.soft_labels`` accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from os import PathLike
from typing import Any

from lsctl.validation import check_choice, check_not_blank, check_range, check_type

TYPES = (float, int, str, bool)


@dataclass(frozen=True)
class Param:
    """One parameter of a method.

    ``default`` None means "not given" (the method picks its default, which
    ``help`` states in brackets). ``low``/``high`` bound numbers (open ends
    with ``low_open``/``high_open``); ``hint`` follows a range error (a
    :mod:`lsctl.validation` template). ``choices`` lists the allowed strings.
    ``record``: stored in the output's metadata params (else the method
    records it in another form). ``flag``: the command-line declaration when
    it is not ``--name`` (e.g. ``--lowercase/--no-lowercase``). ``labels``:
    a label list, typed ``A,B,…`` on the command line.
    """

    name: str
    type: type = float
    default: Any = None
    help: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    hint: str = ""
    choices: tuple[str, ...] | None = None
    record: bool = True
    flag: str | None = None
    labels: bool = False

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise TypeError(f"Param {self.name!r}: type must be one of {TYPES}")

    def check(self, value: Any) -> None:
        """Raise :class:`~lsctl.validation.ParameterError` for a value out of range or choice."""
        if value is None:
            return
        if not self.labels:  # a label list may come as a list
            check_type(self.name, value, self.type, text=(str, Enum, PathLike))
        if self.type is str:
            # No text parameter means anything empty ('' is not "not given").
            check_not_blank(self.name, value)
        if self.choices is not None:
            check_choice(self.name, value, self.choices)
        if self.low is not None or self.high is not None:
            check_range(
                self.name,
                value,
                low=self.low,
                high=self.high,
                low_open=self.low_open,
                high_open=self.high_open,
                hint=self.hint,
                whole=self.type is int,
            )


def check_all(options: Sequence[Param], params: dict[str, Any]) -> None:
    """Check every declared parameter's value in ``params`` (its default when absent)."""
    for p in options:
        p.check(params.get(p.name, p.default))
