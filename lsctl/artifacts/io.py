"""Read and write artifacts: Parquet files and Arrow IPC streams, '-' for pipes.

Reading sniffs magic bytes, so a file's extension never lies to us. Writing is
atomic (temporary file in the target directory, then ``os.replace``) so a crash
or Ctrl-C never leaves half an artifact behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from lsctl.artifacts.meta import META_KEY, decode_meta, encode_meta, file_sha256
from lsctl.errors import LsctlError, UsageError

PARQUET_MAGIC = b"PAR1"
ARROW_FILE_MAGIC = b"ARROW1"
ARROW_STREAM_CONT = b"\xff\xff\xff\xff"
# A stream's end-of-stream marker: the continuation token and a zero length.
ARROW_STREAM_EOS = ARROW_STREAM_CONT + b"\x00\x00\x00\x00"
STREAM_EXTS = (".arrows",)
# The Arrow IPC file format (random access, what `pyarrow.feather` and other
# tools open as .arrow / .feather).
FILE_EXTS = (".arrow", ".feather")


def sniff(head: bytes) -> str:
    """'parquet', 'arrow-file' or 'arrow-stream' from a file's first bytes."""
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.startswith(ARROW_FILE_MAGIC):
        return "arrow-file"
    if head.startswith(ARROW_STREAM_CONT):
        return "arrow-stream"
    return "unknown"


class _HashingReader(io.RawIOBase):
    """Wraps stdin so the content hash of a piped artifact is known after reading."""

    def __init__(self, raw: BinaryIO, prefix: bytes) -> None:
        self._raw = raw
        self._prefix = prefix
        self.sha = hashlib.sha256(prefix)
        self.tail = prefix[-len(ARROW_STREAM_EOS) :]  # the last bytes read

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b)
        if self._prefix:
            n = min(len(view), len(self._prefix))
            view[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._raw.read(len(view))
        if not data:
            return 0
        self.sha.update(data)
        self.tail = (self.tail + data[-len(ARROW_STREAM_EOS) :])[-len(ARROW_STREAM_EOS) :]
        view[: len(data)] = data
        return len(data)


@dataclass
class ArtifactReader:
    """An opened artifact: schema and metadata now, rows on demand.

    ``iter_batches`` streams record batches so counting passes stay O(batch)
    in memory; ``read`` materialises the whole table.
    """

    path: str
    format: str
    schema: pa.Schema
    meta: dict[str, Any] | None
    _source: Any = field(repr=False, default=None)
    _hasher: _HashingReader | None = field(repr=False, default=None)
    _consumed: bool = field(repr=False, default=False)
    num_rows: int | None = None
    # How an Arrow stream ended: its last 8 bytes (a file's are read at open).
    _tail: bytes | None = field(repr=False, default=None)
    _file_record: dict[str, Any] | None = field(repr=False, default=None)

    def __post_init__(self) -> None:
        check_schema(self.schema, "stdin" if self.path == "-" else self.path)

    @property
    def kind(self) -> str | None:
        return self.meta.get("kind") if self.meta else None

    @property
    def labels(self) -> list[str] | None:
        return list(self.meta["labels"]) if self.meta and self.meta.get("labels") else None

    def iter_batches(
        self, columns: list[str] | None = None, batch_size: int = 65_536
    ) -> Iterator[pa.RecordBatch]:
        self._check_columns(columns)
        try:
            if self.format == "parquet":
                for batch in self._source.iter_batches(batch_size=batch_size, columns=columns):
                    batch.validate(full=True)
                    yield batch
                return
            if self._consumed:
                raise LsctlError(f"{self.path}: a piped stream can only be read once")
            self._consumed = True
            for batch in self._source:
                # An Arrow stream is untrusted input: a flipped offset or length
                # makes compute kernels read out of bounds (a segfault, not an
                # exception), so every batch is checked in full before use.
                batch.validate(full=True)
                yield batch.select(columns) if columns else batch
            self._check_complete()
        except _DECODE_ERRORS as e:
            raise corrupt(self.path, e) from e

    def _check_complete(self) -> None:
        """Refuse an lsctl stream that stops before its end marker.

        lsctl writes the marker only when every row is out, so a stream that
        ends without it comes from a command that failed or was stopped
        part-way: its rows are a silent subset. (The Arrow format lets other
        writers end a stream by closing it, so streams without lsctl metadata
        are taken as they end.)
        """
        tail = self._hasher.tail if isinstance(self._hasher, _HashingReader) else self._tail
        if self.meta is not None and tail is not None and tail != ARROW_STREAM_EOS:
            source = "the command writing it" if self.path == "-" else "the command that wrote it"
            raise LsctlError(
                f"{'stdin' if self.path == '-' else self.path}: the Arrow stream ends before "
                f"its end marker, so rows are missing; {source} failed or was stopped"
            )

    def read(self, columns: list[str] | None = None) -> pa.Table:
        self._check_columns(columns)
        try:
            if self.format == "parquet":
                table = self._source.read(columns=columns)
                table.validate(full=True)
            else:
                table = pa.Table.from_batches(
                    list(self.iter_batches(columns)), schema=_select(self.schema, columns)
                )
        except _DECODE_ERRORS as e:
            raise corrupt(self.path, e) from e
        return table.replace_schema_metadata(self.schema.metadata)

    def input_record(self) -> dict[str, Any]:
        """``{"path", "sha256"}`` for the ``inputs`` list of derived artifacts.

        A stream's hash is known once it is read (None before); a file's is
        computed once.
        """
        if self.path == "-":
            digest = self._hasher.sha.hexdigest() if self._hasher and self._consumed else None
            return {"path": "-", "sha256": digest}
        if self._file_record is None:
            self._file_record = {
                "path": os.path.abspath(self.path),
                "sha256": file_sha256(self.path),
            }
        return dict(self._file_record)

    def _check_columns(self, columns: list[str] | None) -> None:
        missing = [c for c in columns or [] if c not in self.schema.names]
        if missing:
            raise LsctlError(
                f"{self.path}: no column {missing[0]!r} (columns: {', '.join(self.schema.names)})"
            )


# Everything a damaged Parquet or Arrow file can raise while being decoded.
_DECODE_ERRORS = (pa.ArrowException, OSError, UnicodeDecodeError, EOFError)


def check_schema(schema: pa.Schema, where: str) -> None:
    """Refuse what no command can read: repeated column names, and a ``text`` or
    label column that holds lists, structs or raw bytes instead of values.

    Checked when a file is opened, so a command that only passes these columns
    through (split, noise, uniform) refuses them as the first reader does.
    """
    seen: set[str] = set()
    for name in schema.names:
        if name in seen:
            raise LsctlError(
                f"{where}: the column name {name!r} appears {schema.names.count(name)} times; "
                "give each column its own name"
            )
        seen.add(name)
    for name in ("text", "label", "clean_label"):
        if name not in seen:
            continue
        kind = schema.field(name).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if name == "text":
            ok = (
                pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)
            )
        else:
            ok = not (
                pa.types.is_nested(kind) or pa.types.is_binary(kind)
                or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind)
            )  # fmt: skip
        if not ok:
            raise LsctlError(
                f"{where}: column {name!r} is {kind}, expected "
                f"{'strings (one text per row)' if name == 'text' else 'one label (a string) per row'}"
            )


def corrupt(path: str, err: BaseException) -> LsctlError:
    """One line for a file that cannot be decoded: which file, and what was wrong."""
    where = "stdin" if path == "-" else path
    detail = " ".join(str(err).split())[:200] or type(err).__name__
    return LsctlError(
        f"{where}: cannot read, the data is truncated or corrupt ({detail}); "
        "re-create it with the lsctl command that wrote it"
    )


def _select(schema: pa.Schema, columns: list[str] | None) -> pa.Schema:
    if not columns:
        return schema
    return pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)


# The real paths of every input the running command names or opens. Writing
# over one of them, or over a file inside an input directory (a run), is
# refused wherever the write happens: one check for every input of every
# command (--keywords, --teacher, --dev, --matrix, runs, predictions), not a
# list each command has to keep. The CLI resets it per command.
_inputs: set[str] = set()
# (device, inode) of a regular file redirected to stdin (`< file`), also an input.
_stdin_files: set[tuple[int, int]] = set()


def note_inputs(*paths: str | None) -> None:
    """Record ``paths`` (those that exist; '-' is stdin) as inputs of this command."""
    for p in paths:
        # Only paths: `data split --dev 0.1` shares a parameter name with `train --dev FILE`.
        if isinstance(p, str) and p and p != "-" and os.path.exists(p):
            _inputs.add(os.path.realpath(p))
        elif p == "-":
            # `< file` or `cat file |`: a redirected file is an input like any other.
            try:
                st = os.fstat(sys.stdin.fileno())
            except (OSError, ValueError, AttributeError):
                continue
            if stat.S_ISREG(st.st_mode):
                _stdin_files.add((st.st_dev, st.st_ino))


def clear_inputs() -> None:
    """Forget the inputs noted so far (a new command starts)."""
    _inputs.clear()
    _stdin_files.clear()


@contextmanager
def input_scope() -> Iterator[None]:
    """One command's inputs: noted inside, forgotten after (one Python API call is one command)."""
    saved = set(_inputs)
    _inputs.clear()
    try:
        yield
    finally:
        _inputs.clear()
        _inputs.update(saved)


def refuse_input(path: str, inputs: Iterable[str] = ()) -> None:
    """Raise if writing ``path`` would replace an input (noted, or given in ``inputs``)."""
    target = os.path.realpath(path)
    if not os.path.exists(target):
        return
    st = os.stat(target)
    if (st.st_dev, st.st_ino) in _stdin_files:
        raise LsctlError(
            f"{path}: refusing to overwrite the file given on stdin; choose another output"
        )
    sources = set(_inputs)
    sources.update(os.path.realpath(s) for s in inputs if s and s != "-" and os.path.exists(s))
    for src in sorted(sources):
        if not os.path.exists(src):
            continue  # gone since it was read (a removed temporary): nothing to overwrite
        inside = os.path.isdir(src) and target.startswith(src.rstrip(os.sep) + os.sep)
        if inside or os.path.samefile(src, target):
            what = f"a file of the input directory {src}" if inside else "an input"
            raise LsctlError(f"{path}: refusing to overwrite {what}; choose another output")


def refuse_directory(path: str) -> None:
    """An output path that names an existing directory is an error, not a rename over it."""
    if os.path.isdir(path):
        example = "out" + (os.path.splitext(path)[1] or ".parquet")
        raise LsctlError(
            f"{path}: is a directory; give a file name, e.g. {os.path.join(path, example)}"
        )


def open_artifact(path: str) -> ArtifactReader:
    """Open a Parquet file, an Arrow file or stream, or '-' (stdin)."""
    note_inputs(path)
    if path == "-":
        if getattr(sys.stdin, "isatty", lambda: False)():
            # Nothing is piped in: reading would wait for typed binary input.
            raise LsctlError(
                "stdin is a terminal: pipe an artifact in (`lsctl … -o - | lsctl … -`) or give a file"
            )
        raw = sys.stdin.buffer
        head = raw.read(8)
        if not head:
            raise LsctlError(
                "stdin is empty: nothing came through the pipe (did the command before it "
                "fail? its error is above), or pipe an artifact in: `lsctl … -o - | lsctl … -`"
            )
        fmt = sniff(head)
        if fmt == "parquet":
            # Parquet needs random access, so a piped Parquet is buffered whole.
            data = head + raw.read()
            return _open_parquet(pa.BufferReader(data), "-", hashlib.sha256(data).hexdigest())
        if fmt not in ("arrow-stream", "arrow-file"):
            raise LsctlError("stdin is not an Arrow stream or Parquet file")
        hasher = _HashingReader(raw, head)
        try:
            reader = ipc.open_stream(pa.PythonFile(io.BufferedReader(hasher), mode="r"))
        except _DECODE_ERRORS as e:
            raise corrupt("-", e) from e
        return ArtifactReader(
            "-",
            "arrow-stream",
            reader.schema,
            decode_meta(reader.schema.metadata, "stdin"),
            reader,
            hasher,
        )

    if not os.path.exists(path):
        raise LsctlError(f"{path}: no such file")
    if os.path.isdir(path):
        raise LsctlError(f"{path}: is a directory, expected a Parquet or Arrow file")
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise LsctlError(f"{path}: is empty (0 bytes), expected a Parquet or Arrow file")
    fmt = sniff(head)
    try:
        if fmt == "parquet":
            return _open_parquet(path, path, None)
        if fmt == "arrow-file":
            # Read into memory, not memory-mapped: a corrupt length in a mapped
            # file points past its end and the process dies of SIGBUS.
            reader = ipc.open_file(pa.BufferReader(_read_bytes(path)))
            table = reader.read_all()
            table.validate(full=True)
            return _table_reader(path, "arrow-file", table)
        if fmt == "arrow-stream":
            reader = ipc.open_stream(pa.OSFile(path, "rb"))
            with open(path, "rb") as f:
                f.seek(max(0, os.path.getsize(path) - len(ARROW_STREAM_EOS)))
                tail = f.read()
            return ArtifactReader(
                path,
                "arrow-stream",
                reader.schema,
                decode_meta(reader.schema.metadata, path),
                reader,
                _tail=tail,
            )
    except _DECODE_ERRORS as e:
        raise corrupt(path, e) from e
    raise LsctlError(f"{path}: not a Parquet or Arrow file; {_import_advice(path)}")


def _import_advice(path: str) -> str:
    """How to turn ``path`` into an artifact: `data import` reads CSV/TSV/JSONL by extension."""
    ext = os.path.splitext(path)[1].lower()
    if ext in (".csv", ".tsv", ".tab", ".jsonl", ".ndjson"):
        return f"use `lsctl data import {path} -o OUT.parquet`"
    # `data import` picks the reader by extension: under a .parquet name it would
    # fail the same way, so say what to rename it to.
    return (
        "if it is CSV, TSV or JSONL text, give it that extension and use "
        "`lsctl data import FILE.csv -o OUT.parquet`"
    )


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _open_parquet(source: Any, name: str, sha: str | None) -> ArtifactReader:
    try:
        # pre_buffer reads ahead every row group at once: +160 MB at IMDb×10 and no faster.
        pf = pq.ParquetFile(source, pre_buffer=False)
    except _DECODE_ERRORS as e:
        raise corrupt(name, e) from e
    schema = pf.schema_arrow
    r = ArtifactReader(
        name,
        "parquet",
        schema,
        decode_meta(schema.metadata, name),
        pf,
        num_rows=pf.metadata.num_rows,
    )
    if sha is not None:
        r._hasher = _FixedHash(sha)  # type: ignore[assignment]
        r._consumed = True
    return r


class _FixedHash:
    def __init__(self, digest: str) -> None:
        self.sha = self
        self._digest = digest

    def hexdigest(self) -> str:
        return self._digest


def _table_reader(path: str, fmt: str, table: pa.Table) -> ArtifactReader:
    class _TableSource:
        def __iter__(self) -> Iterator[pa.RecordBatch]:
            return iter(table.to_batches())

    return ArtifactReader(
        path,
        fmt,
        table.schema,
        decode_meta(table.schema.metadata, path),
        _TableSource(),
        num_rows=table.num_rows,
    )


def table_reader(table: pa.Table, where: str = "data") -> ArtifactReader:
    """An in-memory table opened like an artifact (the Python API's input).

    Its format is ``table``: it can be read any number of times, and it has
    no file, so derived artifacts record no input hash for it.
    """
    return _table_reader(where, "table", table)


def read_artifact(path: str, columns: list[str] | None = None) -> tuple[pa.Table, ArtifactReader]:
    """Read a whole artifact; returns the table and its reader (for meta and hashes)."""
    reader = open_artifact(path)
    return reader.read(columns), reader


def write_artifact(
    table: pa.Table,
    path: str,
    meta: dict[str, Any],
    inputs: list[str] = (),  # type: ignore[assignment]
) -> str:
    """Write ``table`` with the ``lsctl`` stamp to ``path`` atomically.

    '-' streams Arrow IPC to stdout (refused on a terminal). A file's format
    follows its extension: ``.parquet`` or ``.arrows``/``.arrow`` (stream).
    ``inputs`` are paths this artifact was derived from: writing over one is refused.
    Returns the format written.
    """
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[META_KEY] = encode_meta(meta)
    table = table.replace_schema_metadata(schema_meta)
    return _write(path, inputs, table.schema, lambda w: w.write_table(table))


def _refuse_terminal() -> None:
    if sys.stdout.isatty():
        raise LsctlError(
            "refusing to write binary Arrow data to a terminal; use -o FILE.parquet or pipe it"
        )


def _write(path: str, inputs: list[str], schema: pa.Schema, body: Any) -> str:
    """Open the right writer for ``path`` and let ``body(writer)`` fill it.

    Both pyarrow writers take ``write_table``/``write_batch``. A file only
    appears (by rename) once ``body`` has finished; '-' streams to stdout.
    """
    if path == "-":
        _refuse_terminal()
        out = _CuttableSink(sys.stdout.buffer)
        try:
            with ipc.new_stream(pa.PythonFile(out, mode="w"), schema) as w:
                try:
                    body(w)
                except BaseException:
                    # Closing the writer would end the stream with its marker, and
                    # the next command would take the rows so far as all of them.
                    out.cut = True
                    raise
            out.flush()
        except OSError as e:
            # The reader went away (`| head -c 100`): not every row was written,
            # so this is a failure (exit 1, no success line), whatever pyarrow
            # wrapped the EPIPE in.
            if isinstance(e, BrokenPipeError) or "Broken pipe" in str(e):
                raise BrokenPipeError(32, "Broken pipe") from None
            raise
        return "arrow-stream"

    fmt = check_output(path, inputs)
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            # Free text is not dictionary-encoded: nearly every value is distinct,
            # so the writer would hash the first megabyte of each column chunk
            # only to fall back to plain (~8% of writing IMDb).
            dictionary = [f.name for f in schema if f.name != "text"]
            with pq.ParquetWriter(tmp, schema, compression="zstd", use_dictionary=dictionary) as w:
                body(w)
        else:
            new = ipc.new_file if fmt == "arrow-file" else ipc.new_stream
            with pa.OSFile(tmp, "wb") as sink, new(sink, schema) as w:
                body(w)
    return fmt


class _CuttableSink:
    """stdout for an Arrow stream; once ``cut``, writes are dropped (no end marker)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.cut = False
        self.closed = False

    def write(self, data: Any) -> int:
        if self.cut:
            return len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        if not self.cut:
            self.raw.flush()

    def close(self) -> None:
        self.flush()


def _umask_mode() -> int:
    """The mode a plain ``open(path, "w")`` gives a new file: 0o666 less the umask."""
    # os.umask can only be read by setting it; put it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def missing_dirs(directory: str) -> list[str]:
    """The directories of ``directory``'s path that do not exist yet, deepest first.

    Raises when the nearest existing ancestor is not a directory, so a bad
    ``-o`` fails before any work is done.
    """
    missing: list[str] = []
    d = os.path.abspath(directory)
    while not os.path.exists(d):
        missing.append(d)
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    if os.path.exists(d) and not os.path.isdir(d):
        raise LsctlError(f"{directory}: {d} is a file, not a directory; choose another path")
    return missing


def ensure_dir(directory: str) -> list[str]:
    """Create ``directory`` and its missing parents; returns those created, deepest first."""
    created = missing_dirs(directory)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise LsctlError(f"{directory}: cannot create the directory ({e.strerror})") from None
    return created


def remove_empty_dirs(dirs: list[str]) -> None:
    """Undo :func:`ensure_dir` after a failure: remove those of ``dirs`` left empty."""
    for d in dirs:
        try:
            os.rmdir(d)
        except OSError:
            return  # not empty (or gone): its parents are not empty either


# A day: temporaries from before the writer's pid was in their name are
# removed only when no live writer can plausibly still own them.
_LEGACY_TMP_AGE_S = 86_400


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), None if it is not running.

    Linux reads /proc; elsewhere a live pid counts as started at the epoch, so
    its files are kept.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except (PermissionError, OSError):
        pass  # alive, owned by someone else
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            ticks = int(f.read().rsplit(b")", 1)[1].split()[19])
        with open("/proc/stat", "rb") as f:
            btime = next(int(ln.split()[1]) for ln in f if ln.startswith(b"btime"))
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return 0.0


def remove_stale_temporaries(directory: str) -> list[str]:
    """Remove ``.lsctl-PID-*`` files left in ``directory`` by a killed writer.

    A temporary is stale when its writer (the PID in its name) is gone, or
    when the file is older than the process now holding that PID (PID reuse).
    SIGKILL leaves them behind (nothing can run then); the next write to the
    same directory cleans up. Returns the names removed.
    """
    removed = []
    try:
        names = [n for n in os.listdir(directory) if n.startswith(".lsctl-")]
    except OSError:
        return removed
    now = time.time()
    for name in names:
        path = os.path.join(directory, name)
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            continue
        pid_part = name[len(".lsctl-") :].split("-", 1)[0]
        if pid_part.isdigit() and "-" in name[len(".lsctl-") :]:
            pid = int(pid_part)
            if pid == os.getpid():
                continue
            start = _process_start(pid)
            stale = start is None or mtime < start
        else:
            stale = now - mtime > _LEGACY_TMP_AGE_S
        if stale and os.path.isfile(path):
            try:
                os.unlink(path)
                removed.append(name)
            except OSError:
                pass
    return removed


@contextmanager
def atomic_path(path: str, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a temporary name next to ``path``; on success it is renamed to ``path``.

    The one atomic writer for every file lsctl makes (artifacts, plots): the
    temporary file is hidden (``.lsctl-*``), gets the mode a plain ``open()``
    would give (``mkstemp``'s 0600 would otherwise survive the rename), and is
    removed on any failure, Ctrl-C included, together with any directory that
    was created for it.
    """
    target = os.path.abspath(path)
    refuse_input(target)
    refuse_directory(path)
    created = ensure_dir(os.path.dirname(target))
    remove_stale_temporaries(os.path.dirname(target))
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".lsctl-{os.getpid()}-", suffix=suffix, dir=os.path.dirname(target)
        )
    except OSError as e:
        remove_empty_dirs(created)
        raise LsctlError(f"{path}: cannot write here ({e.strerror})") from None
    os.close(fd)
    try:
        mode = _umask_mode()
        os.chmod(tmp, mode)
        yield tmp
        # Again: some writers (safetensors) replace the file with their own 0600 one.
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        remove_empty_dirs(created)
        raise


def check_output(path: str, inputs: list[str] = ()) -> str:  # type: ignore[assignment]
    """Validate an output path before any work is done; returns its format.

    Commands call this up front so a bad ``-o`` fails in milliseconds, not
    after minutes of computation.
    """
    if path == "-":
        _refuse_terminal()
        return "arrow-stream"
    refuse_directory(path)
    fmt = output_format(path)
    target = os.path.abspath(path)
    refuse_input(path, inputs)
    # A missing directory is created when the file is written (like `data split`).
    missing_dirs(os.path.dirname(target))
    return fmt


def output_format(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext == ".parquet":
        return "parquet"
    if ext in STREAM_EXTS:
        return "arrow-stream"
    if ext in FILE_EXTS:
        return "arrow-file"
    raise UsageError(
        f"{path}: unknown output extension {ext or '(none)'!r}; use .parquet, .arrows "
        "(an Arrow stream) or .arrow (an Arrow file)"
    )


def write_batches(
    batches: Iterable[pa.RecordBatch],
    path: str,
    meta: dict[str, Any],
    inputs: list[str] = (),  # type: ignore[assignment]
) -> str:
    """Like :func:`write_artifact`, but streams record batches (memory: one batch).

    The schema is the first batch's; every batch must share it. The file
    appears (atomically) only once the last batch is written.
    """
    it = iter(batches)
    first = next(it, None)
    if first is None:
        raise ValueError("write_batches needs at least one batch")
    schema_meta = dict(first.schema.metadata or {})
    schema_meta[META_KEY] = encode_meta(meta)
    schema = first.schema.with_metadata(schema_meta)

    def body(w: Any) -> None:
        with _BackgroundWriter(w) as bg:
            bg.put(first.replace_schema_metadata(schema_meta))
            for b in it:
                bg.put(b.replace_schema_metadata(schema_meta))

    return _write(path, inputs, schema, body)


class _BackgroundWriter:
    """Writes record batches on a second thread while the caller makes the next one.

    Encoding and compressing a batch (Parquet's zstd, most of a write) releases
    the GIL, so it overlaps with computing the next batch: about 0.05 s of a 1 s
    ``softlabel`` run. At most one batch waits in the queue besides the one being
    written, so memory stays at a batch or two. A write error (a full disk, a
    closed pipe) is raised in the caller's thread, at its next ``put`` or at exit.
    """

    _DONE = object()

    def __init__(self, writer: Any) -> None:
        import queue
        import threading

        self._writer = writer
        self._queue: Any = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="lsctl-writer", daemon=True)

    def _run(self) -> None:
        while (batch := self._queue.get()) is not self._DONE:
            if self._error is None:
                try:
                    self._writer.write_batch(batch)
                except BaseException as e:  # handed to the caller's thread
                    self._error = e
            # Not held while waiting for the next one: a written batch (and the
            # input buffers it shares) would otherwise stay alive a batch longer.
            del batch

    def put(self, batch: pa.RecordBatch) -> None:
        self._raise()
        self._queue.put(batch)

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def __enter__(self) -> _BackgroundWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        # Also on the caller's own error: the thread finishes what it holds and
        # stops, so the writer is idle before the partial file is removed.
        self._queue.put(self._DONE)
        self._thread.join()
        if exc[0] is None:
            self._raise()
