"""A user-level cache of tokenized, tensorized TRAIN/DEV data for TextCNN and LSTM.

A grid trains the same data dozens of times; each run would otherwise
tokenize the texts, build the vocabulary and pad the id tensors again. An
entry holds the vocabulary and the four tensors (train/dev ids and lengths).

The key is content-addressed: a SHA-256 over the train and dev texts
themselves (after any dev split and ``--drop-empty``), the tokenizer spec and
every option that shapes the tensors (``--vocab-size``, ``--min-count``,
``--max-length``). Whatever produced the texts (another file, another seed's
dev split) the same texts and options give the same tensors, so a hit is
exact by construction, and nothing else can hit.

Where: ``$LSCTL_CACHE_DIR``, else ``$XDG_CACHE_HOME/lsctl``, else
``~/.cache/lsctl``. Size: at most ``$LSCTL_CACHE_MAX_MB`` MiB (default 1024);
the least recently used entries go first. ``lsctl train --no-cache`` neither
reads nor writes it. A damaged entry is a miss, and is removed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

# Bump when the entry layout or the encoding of texts into tensors changes.
FORMAT = 1
DEFAULT_MAX_MB = 1024


def cache_dir() -> Path:
    """The folder that holds the entries (not created here)."""
    if os.environ.get("LSCTL_CACHE_DIR"):
        return Path(os.environ["LSCTL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lsctl"


def max_bytes() -> int:
    try:
        mb = float(os.environ.get("LSCTL_CACHE_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int(max(mb, 0) * 2**20)


def key(train_texts: list[str], dev_texts: list[str], options: dict[str, Any]) -> str:
    """The entry's name: SHA-256 over the texts and the encoding options.

    Parameters
    ----------
    train_texts, dev_texts : list of str
        The texts exactly as they are encoded (N_train and N_dev of them).
    options : dict
        JSON-serialisable options that shape the tensors.

    Examples
    --------
    >>> key(["a b"], ["c"], {"v": 1}) == key(["a b"], ["c"], {"v": 1})
    True
    >>> key(["a b"], ["c"], {"v": 1}) == key(["a", "b"], ["c"], {"v": 1})
    False
    """
    h = hashlib.sha256()
    h.update(json.dumps({"format": FORMAT, **options}, sort_keys=True).encode())
    for part in (train_texts, dev_texts):
        h.update(b"\x1e%d\x1e" % len(part))
        for t in part:
            b = t.encode("utf-8", "surrogatepass")
            # Length-prefixed, so no two different lists hash alike.
            h.update(b"%d:" % len(b))
            h.update(b)
    return h.hexdigest()


def _path(k: str) -> Path:
    return cache_dir() / f"{k}.pt"


def load(k: str) -> dict[str, Any] | None:
    """The entry for key ``k``, or None (missing or damaged; a damaged one is removed)."""
    p = _path(k)
    if not p.is_file():
        return None
    try:
        entry = torch.load(p, map_location="cpu", weights_only=True)
        if not isinstance(entry, dict) or entry.get("format") != FORMAT:
            raise ValueError("not a cache entry of this format")
        os.utime(p)  # least recently used goes first
        return entry
    except Exception:  # a half-written or foreign file: rebuild it
        p.unlink(missing_ok=True)
        return None


def store(k: str, entry: dict[str, Any]) -> None:
    """Write ``entry`` through lsctl's atomic writer, then evict the oldest entries over
    the size bound.

    A cache that cannot be written (read-only home, full disk) is skipped
    silently: it only ever saves time.
    """
    from lsctl.artifacts.io import atomic_path
    from lsctl.errors import LsctlError

    try:
        with atomic_path(str(_path(k)), suffix=".pt") as tmp, open(tmp, "wb") as f:
            # A file object, not the path: torch names the archive's records after
            # the file, and the temporary name would make every entry differ.
            torch.save({**entry, "format": FORMAT}, f)
        evict(max_bytes())
    except (OSError, LsctlError):
        return


def evict(limit: int) -> list[Path]:
    """Remove least recently used entries until the folder holds at most ``limit`` bytes."""
    entries = []
    for p in cache_dir().glob("*.pt"):
        if p.name.startswith("."):
            continue  # another process's entry being written (atomic_path's temporary)
        try:
            st = p.stat()
        except OSError:
            continue
        entries.append((st.st_mtime, st.st_size, p))
    entries.sort()
    total = sum(size for _, size, _ in entries)
    removed = []
    for _, size, p in entries:
        if total <= limit:
            break
        p.unlink(missing_ok=True)
        total -= size
        removed.append(p)
    return removed
