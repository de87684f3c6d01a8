"""What every CLI module shares: the stderr console, error handling, progress, JSON.

Rules from DESIGN.md live here so each command gets them for free:
data to stdout only, people-facing text to stderr, one ``Error: …`` line per
bad input, no traceback unless ``LSCTL_DEBUG=1``.
"""

from __future__ import annotations

import errno
import functools
import json
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from lsctl.errors import LsctlError, Terminated, UsageError
from lsctl.progress import NullProgress, Progress

if TYPE_CHECKING:
    from rich.console import Console


class _StderrConsole:
    """The stderr console, made on first use.

    Importing rich is about 20 ms of every ``lsctl`` call, and a quiet run that
    succeeds prints nothing; errors, warnings, progress and tables make it.
    """

    _real: Console | None = None

    def get(self) -> Console:
        if self._real is None:
            from rich.console import Console

            type(self)._real = Console(stderr=True)
        return self._real  # type: ignore[return-value]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


console: Console = _StderrConsole()  # type: ignore[assignment]


def escape(text: str) -> str:
    """``text`` with rich markup characters escaped (rich loads on first use)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


F = TypeVar("F", bound=Callable[..., Any])

# Shared option declarations, so every command spells them the same way.
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON summary object on stdout.")]
SeedOpt = Annotated[
    int, typer.Option("--seed", help="Random seed; the same seed gives the same output.")
]
LowercaseOpt = Annotated[
    bool | None,
    typer.Option(
        "--lowercase/--no-lowercase",
        help="Lowercase tokens [yes for words, no for whitespace].",
    ),
]


def debug() -> bool:
    return os.environ.get("LSCTL_DEBUG", "") not in ("", "0")


def one_line(message: str) -> str:
    """``message`` on one line: newlines folded, control characters shown escaped.

    Messages quote user data (a CSV parser's view of a broken row, a file
    name); a newline or an escape sequence there must not break the
    one-line-per-error rule or drive the terminal.
    """
    message = " ".join(message.splitlines())
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)


def _plain_stderr() -> bool:
    """Whether a message can go to stderr as plain text, without loading rich.

    True when rich would print it uncoloured anyway (stderr is not a terminal
    and no variable forces colour) and no rich display (a progress bar) is
    live. Saves rich's import (~30 ms) in scripts whose only output is a
    warning, such as ``softlabel -q`` on near-uniform targets.
    """
    forced = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
    return (
        _StderrConsole._real is None
        and not any(os.environ.get(v) for v in forced)
        and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())
    )


def _message(kind: str, style: str, message: str) -> None:
    if _plain_stderr():
        sys.stderr.write(f"{kind}: {one_line(message)}\n")
        sys.stderr.flush()
    else:
        console.print(
            f"[{style}]{kind}:[/{style}] {escape(one_line(message))}",
            soft_wrap=True,
            highlight=False,
        )


def error(message: str) -> None:
    _message("Error", "bold red", message)


def warn(message: str) -> None:
    _message("Warning", "yellow", message)


def info(message: str, quiet: bool = False) -> None:
    if not quiet:
        console.print(message, soft_wrap=True, highlight=False)


def report_written(*paths: str | None, quiet: bool = False) -> None:
    """One ``wrote A, B`` line for the files a command wrote (None and stdout left out)."""
    written = [p for p in paths if p not in (None, "-")]
    if written:
        info(f"wrote {', '.join(written)}", quiet)


# Parameters (any command) that name a file or directory the command reads:
# no output of the command may replace one of them (lsctl.artifacts.io.refuse_input).
INPUT_PARAMS = frozenset(
    {
        "src",
        "file",
        "data",
        "train",
        "dev",
        "run",
        "preds",
        "keywords",
        "teacher",
        "matrix",
        "stopwords",
        "embeddings",
    }
)


def option_name(param: str) -> str:
    """``--weight-decay`` for the parameter ``weight_decay`` (lsctl names them alike)."""
    return "--" + param.replace("_", "-")


# Python parameters of the core whose flag is not ``--`` plus the dashed name.
FLAG_NAMES = {"pairs": "--pair", "label_order": "--labels", "fmt": "--format"}


def flag_name(param: str) -> str:
    """The command-line spelling of a core parameter (``k1`` → ``--k1``, ``pairs`` → ``--pair``)."""
    return FLAG_NAMES.get(param) or option_name(param)


def _flag_spelling(param: str, value: Any) -> str:
    if isinstance(value, Enum):  # a choice reads as its value
        value = value.value
    return flag_name(param) if value is None else f"{flag_name(param)} {value}"


def cli_message(err: LsctlError) -> str:
    """``err``'s message, with a core parameter error re-spelled in flags.

    The core and the Python API name parameters as Python does (``rate=1.5``);
    on the command line the same rule reads ``--rate 1.5``.
    """
    from lsctl.validation import ParameterError

    if isinstance(err, ParameterError):
        return err.render(_flag_spelling, flag_name)
    return str(err)


def completer(choices: Any) -> Callable[[str], list[str]]:
    """Shell completion of a choice option from its list (a registry's names).

    Choice options are plain strings listed in --help and completed in bash,
    zsh and fish, but checked by the core: a wrong one is then one ``Error:``
    line naming the choices, like every other bad value.
    """

    def complete(incomplete: str) -> list[str]:
        # A callable is asked at completion time, so --help need not import its registry.
        names = choices() if callable(choices) else choices
        return [c for c in names if c.startswith(incomplete)]

    return complete


def check_finite(kwargs: dict[str, Any]) -> None:
    """Refuse NaN and ±inf for every float option of every command (a usage error).

    They pass range checks written as ``not (x < 0)`` and then poison every
    number downstream (``--k1 inf`` gave NaN statistics for every word).
    """
    for name, value in kwargs.items():
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if isinstance(v, float) and not math.isfinite(v):
                raise UsageError(f"{option_name(name)}: {v} is not a finite number")


def _on_sigterm() -> Any:
    """Make SIGTERM (kill, timeout, schedulers) act like Ctrl-C; returns the old handler.

    Raising in the handler unwinds through the atomic writers, which remove
    their temporary files, and through training, which saves its checkpoint.
    """
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: Any) -> None:
        raise Terminated()

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:
        return None


def handle_errors(fn: F) -> F:
    """Turn LsctlError (and any surprise) into one stderr line and an exit code."""

    def _run(*args: Any, **kwargs: Any) -> Any:
        from lsctl.artifacts.io import clear_inputs, note_inputs

        check_finite(kwargs)
        clear_inputs()
        for name in INPUT_PARAMS.intersection(kwargs):
            value = kwargs[name]
            note_inputs(*(value if isinstance(value, list | tuple) else [value]))
        previous = _on_sigterm()
        try:
            return fn(*args, **kwargs)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            clear_inputs()
            close_progress()  # before any error line, so it is not drawn over

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return _run(*args, **kwargs)
        except typer.Exit:
            raise
        except LsctlError as e:
            if debug():
                raise
            error(cli_message(e))
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt as e:
            if debug():
                raise
            note = f"; {e}" if str(e) else ""
            if isinstance(e, Terminated):
                error(f"terminated (SIGTERM); temporary files removed{note}")
                raise typer.Exit(143) from None
            error(f"interrupted{note}")
            raise typer.Exit(130) from None
        except BrokenPipeError:
            # The reader went away (`| head`); nothing useful left to say.
            _silence_stdout()
            raise typer.Exit(1) from None
        except MemoryError:
            error("out of memory; try a smaller --batch-size or a subset of the data")
            raise typer.Exit(1) from None
        except Exception as e:
            if debug():
                raise
            if isinstance(e, OSError) and e.errno in _DISK_ERRORS:
                # A full or read-only disk is the machine's state, not a bug to report.
                where = f" ({e.filename})" if e.filename else ""
                error(f"cannot write{where}: {e.strerror}; free space or choose another output")
                raise typer.Exit(1) from None
            error(f"unexpected {type(e).__name__}: {e} (set LSCTL_DEBUG=1 for the traceback)")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


_DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def show_progress(quiet: bool = False, as_json: bool = False) -> bool:
    return not (quiet or as_json) and console.is_terminal


class RichProgress:
    """The rich implementation of ``lsctl.progress.Progress``: one live display per command.

    The display starts with the first task and stops when the command ends
    (``close_progress``, called by ``handle_errors``). Restarting it per task
    re-printed every earlier bar each time and drew over the lines printed
    between tasks; now a finished task leaves the display, and what a command
    prints meanwhile (e.g. one line per training epoch) stays above it.
    """

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as _P,
        )

        self._p = _P(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"),
            console=console.get(),
            transient=True,
        )
        self._live = False

    @contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[Any]:
        if not self._live:
            self._p.start()
            self._live = True
        tid = self._p.add_task(description, total=total, status="")
        try:
            yield _RichTask(self._p, tid)
        finally:
            self._p.remove_task(tid)

    def close(self) -> None:
        if self._live:
            self._p.stop()
            self._live = False


class _RichTask:
    def __init__(self, p: Any, tid: Any) -> None:
        self._p, self._tid = p, tid

    def advance(self, n: float = 1) -> None:
        self._p.advance(self._tid, n)

    def update(self, **fields: object) -> None:
        known = {k: fields.pop(k) for k in ("total", "completed", "description") if k in fields}
        status = "  ".join(f"{k}={v}" for k, v in fields.items())
        self._p.update(self._tid, status=status, **known)


def table_console() -> Console:
    """The console tables go to: the terminal, or a pipe as wide as ``COLUMNS`` says.

    A pipe or log file has no width of its own; rich would assume 80 columns,
    so without ``COLUMNS`` a pipe gets 160 (wide tables stay whole in a log).
    """
    if console.is_terminal:
        return console.get()
    from rich.console import Console

    columns = os.environ.get("COLUMNS", "").strip()
    width = int(columns) if columns.isdigit() and int(columns) > 0 else 160
    return Console(stderr=True, width=width, no_color=console.no_color, highlight=False)


def print_table(table: Any, out: Console | None = None) -> None:
    """Print a rich table whole, or, when it does not fit, one block per row.

    rich fits a wide table by cutting cells ("0.4…"); a number must never be
    cut, so a table wider than the console is printed vertically instead:
    each row's first cell, then "column  value" lines.
    """
    from rich.measure import Measurement
    from rich.text import Text

    out = out or table_console()
    # Measured without a width limit: rich clamps the natural width to the console's.
    natural = Measurement.get(out, out.options.update_width(1_000_000), table).maximum
    if natural <= out.width:
        out.print(table)
        return
    columns = list(table.columns)
    cells = [list(c.cells) for c in columns]
    headers = [Text.from_markup(str(c.header)).plain for c in columns[1:]]
    key_width = max((len(h) for h in headers), default=0)
    if table.title:
        out.print(table.title, highlight=False)  # prose: wrapped at spaces, never cut
    for r in range(table.row_count):
        first = escape(Text.from_markup(str(columns[0].header)).plain)
        out.print(f"[bold]{first}: {cells[0][r]}[/bold]", soft_wrap=True, highlight=False)
        for h, col in zip(headers, cells[1:], strict=True):
            out.print(f"  {escape(h):<{key_width}}  {col[r]}", soft_wrap=True, highlight=False)
    if table.caption:
        out.print(table.caption, highlight=False)


_active: RichProgress | None = None


def progress(quiet: bool = False, as_json: bool = False) -> Progress:
    """The command's progress display (one per process), or a silent one."""
    global _active
    if not show_progress(quiet, as_json):
        return NullProgress()
    if _active is None:
        _active = RichProgress()
    return _active


def close_progress() -> None:
    """Stop the live display, if any; the command is over."""
    global _active
    if _active is not None:
        _active.close()
        _active = None


def emit_json(obj: Any) -> None:
    """One JSON object on stdout (the only people-facing thing that goes there)."""
    sys.stdout.write(json.dumps(obj, indent=2, default=_jsonable, allow_nan=False) + "\n")
    sys.stdout.flush()


def _jsonable(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


def check_json_vs_stdout(as_json: bool, output: str | None) -> None:
    if as_json and output == "-":
        raise UsageError("--json and -o - both write to stdout; write the artifact to a file")


def parse_pairs(
    values: list[str], option: str, cast: Callable[[str], Any] = str, form: str = "LABEL=VALUE"
) -> dict[str, Any]:
    """``['a=1', 'b=2']`` → ``{'a': cast('1'), …}`` with a clear error for bad items."""
    out: dict[str, Any] = {}
    key_name = form.split("=")[0].lower()
    for item in values:
        key, sep, val = item.rpartition("=")
        if not sep or not key:
            raise UsageError(f"{option} expects {form}, got {item!r}")
        if key in out:
            raise UsageError(f"{option} {key}=… is given twice; give each {key_name} once")
        try:
            out[key] = cast(val)
        except ValueError:
            raise UsageError(f"{option} {item!r}: {val!r} is not a valid value") from None
        if isinstance(out[key], float) and not math.isfinite(out[key]):
            raise UsageError(f"{option} {item!r}: {val!r} is not a finite number")
    return out
