"""The ``lsctl`` schema-metadata stamp carried by every artifact."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from typing import Any

from lsctl import __version__
from lsctl.errors import LsctlError

META_KEY = b"lsctl"
SCHEMA_VERSION = 1
KINDS = ("dataset", "keywords", "softlabels", "predictions", "comparison", "run", "ranked")


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def make_meta(
    kind: str,
    labels: list[str] | None,
    params: dict[str, Any] | None = None,
    inputs: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Build the metadata dict; ``inputs`` are ``{"path", "sha256"}`` records."""
    if kind not in KINDS:
        raise ValueError(f"unknown artifact kind {kind!r}")
    meta: dict[str, Any] = {
        "kind": kind,
        "schema_version": SCHEMA_VERSION,
        "labels": list(labels) if labels is not None else None,
        "params": params or {},
        "inputs": inputs or [],
        "lsctl_version": __version__,
        "created_at": _created_at(),
    }
    meta.update(extra)
    return meta


def _created_at() -> str:
    # SOURCE_DATE_EPOCH (reproducible-builds convention) pins the stamp, so a
    # seeded command can produce byte-identical artifacts across runs.
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    now = (
        _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc)
        if epoch.isdigit()
        else _dt.datetime.now(_dt.timezone.utc)
    )
    return now.isoformat(timespec="seconds")


def encode_meta(meta: dict[str, Any]) -> bytes:
    return json.dumps(meta, sort_keys=False, default=_json_default).encode()


def decode_meta(raw: dict[bytes, bytes] | None, where: str) -> dict[str, Any] | None:
    """Return the ``lsctl`` dict, or None for plain Parquet (pandas, polars, …)."""
    if not raw or META_KEY not in raw:
        return None
    try:
        meta = json.loads(raw[META_KEY].decode("utf-8"))
    except UnicodeDecodeError:
        raise LsctlError(
            f"{where}: the 'lsctl' metadata is not UTF-8 text; the file is corrupt or was "
            "not written by lsctl (drop that schema-metadata key to read it as plain data)"
        ) from None
    except json.JSONDecodeError as e:
        raise LsctlError(f"{where}: the 'lsctl' metadata is not valid JSON ({e})") from e
    if not isinstance(meta, dict):
        raise LsctlError(
            f"{where}: the 'lsctl' metadata is a JSON {type(meta).__name__}, expected an "
            "object; the file is corrupt or was not written by lsctl"
        )
    version = meta.get("schema_version", 1)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise LsctlError(
            f"{where}: written by a newer lsctl (schema_version {version}, this lsctl reads "
            f"up to {SCHEMA_VERSION}); upgrade lsctl to read it"
        )
    return meta


def _json_default(o: Any) -> Any:
    # numpy scalars and paths show up in params; keep the stamp JSON-clean.
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)
