"""A progress protocol the core can report to without importing rich.

Core functions take ``progress: Progress | None``; the CLI passes a rich-backed
implementation (``lsctl.cli.common.progress``) or nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Task(Protocol):
    def advance(self, n: float = 1) -> None: ...

    def update(self, **fields: object) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: float | None = None) -> Iterator[Task]: ...


class _NullTask:
    def advance(self, n: float = 1) -> None:
        pass

    def update(self, **fields: object) -> None:
        pass


class NullProgress:
    """Reports nothing; the default for library use and for --quiet/--json."""

    @contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[Task]:
        yield _NullTask()


def ensure(progress: Progress | None) -> Progress:
    return progress if progress is not None else NullProgress()
