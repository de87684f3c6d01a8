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


def training_hashes(run_config: dict[str, Any] | None) -> set[str]:
    """Content hashes of the data a run was trained on: its TRAIN file and, one
    level up, the files TRAIN was made from (a soft-label file's dataset).

    ``run_config`` is the run's ``config.json`` (``inputs``: TRAIN first, then DEV).
    """
    if not run_config:
        return set()
    inputs = run_config.get("inputs") or []
    if not inputs:
        return set()
    train = inputs[0]  # lsctl train records TRAIN first, then DEV
    hashes = {train["sha256"]} if train.get("sha256") else set()
    path = train.get("path")
    if path and path != "-" and os.path.isfile(path):
        from lsctl.artifacts.io import open_artifact

        try:
            meta = open_artifact(path).meta or {}
        except LsctlError:
            meta = {}
        hashes |= {i["sha256"] for i in meta.get("inputs", []) if i.get("sha256")}
    return hashes
