"""The one exception type the core raises for bad input.

The CLI turns it into a single ``Error: …`` line and an exit code; the core
never prints. ``exit_code`` follows DESIGN.md: 1 data/runtime, 2 usage,
3 regression found by ``compare --fail-if-worse``, 130 interrupted (Ctrl-C),
143 terminated (SIGTERM).
"""

from __future__ import annotations


class LsctlError(Exception):
    """A problem the user can fix; ``str(err)`` says what and how."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, batch schedulers): handled like Ctrl-C, exit 143."""


class UsageError(LsctlError):
    """Options that contradict each other or are out of range for the command line."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=2)


def rows_have(n: int, noun: str = "row") -> str:
    """``"1 row has"`` or ``"3 rows have"``, for messages that count rows.

    >>> rows_have(1), rows_have(1200, "document")
    ('1 row has', '1,200 documents have')
    """
    return f"1 {noun} has" if n == 1 else f"{n:,} {noun}s have"
