"""Intended transition matrices: T[i, j] = P(noisy = j | clean = i), rows sum to 1.

See METHODS.md §3. cleanlab's ``noise_matrix`` is the transpose (columns sum
to 1); user matrices are converted to our row convention on input.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence

import numpy as np

from lsctl.errors import LsctlError
from lsctl.validation import ParameterError

TOL = 1e-6
CONVENTIONS = ("off-diagonal", "uniform")


def check_rate(rate: float) -> float:
    from lsctl.validation import check_range

    check_range("rate", rate, low=0, high=1, high_open=True, hint="(e.g. {rate:v=0.2})")
    return float(rate)


def symmetric(k: int, rate: float, convention: str = "off-diagonal") -> np.ndarray:
    """``off-diagonal``: 1−r kept, r/(K−1) to each other class.

    ``uniform``: a fraction r of labels is resampled uniformly over all K classes
    (true class included), so off-diagonal entries are r/K and the diagonal is
    1−r+r/K; the realized flip rate is then r·(K−1)/K.
    """
    check_rate(rate)
    if convention == "off-diagonal":
        t = np.full((k, k), rate / (k - 1))
        np.fill_diagonal(t, 1.0 - rate)
    elif convention == "uniform":
        t = np.full((k, k), rate / k)
        np.fill_diagonal(t, 1.0 - rate + rate / k)
    else:
        from lsctl.validation import check_choice

        check_choice("convention", convention, CONVENTIONS)
    return t


def pairflip(k: int, rate: float) -> np.ndarray:
    """Class i → class (i+1) mod K with probability r (Han et al. 2018)."""
    check_rate(rate)
    t = np.eye(k) * (1.0 - rate)
    t[np.arange(k), (np.arange(k) + 1) % k] += rate
    return t


def asymmetric(k: int, rate: float, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """Each source class a of a pair a→b flips with probability r.

    A source named in several pairs splits r evenly over its targets, so its
    total flip rate stays r; classes named in no pair stay clean.
    """
    check_rate(rate)
    if not pairs:
        raise ParameterError(
            "{kind} needs at least one pair in {pairs:n} (SOURCE:TARGET)",
            kind="asymmetric",
            pairs=None,
        )
    targets: dict[int, set[int]] = {}
    for a, b in pairs:
        if a == b:
            raise LsctlError(f"--pair maps class {a} to itself; give two different labels")
        targets.setdefault(a, set()).add(b)
    t = np.eye(k)
    for a, bs in targets.items():
        t[a, a] = 1.0 - rate
        for b in bs:
            t[a, b] = rate / len(bs)
    return t


def validate(
    matrix: np.ndarray, labels: Sequence[str], stochastic: str = "rows", where: str = "--matrix"
) -> np.ndarray:
    """Check a user matrix and return it in the row convention (rows sum to 1).

    ``stochastic="columns"`` reads cleanlab's convention (noise_matrix[j][i] =
    P(noisy=j | clean=i)), which is our T transposed.
    """
    if stochastic not in ("rows", "columns"):
        raise LsctlError(f"unknown --stochastic {stochastic!r}; use rows or columns")
    k = len(labels)
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape != (k, k):
        shape = "empty" if m.size == 0 else "×".join(map(str, m.shape)) if m.ndim else "a scalar"
        raise LsctlError(
            f"{where}: the matrix is {shape}, expected {k}×{k} (one row and column per label: "
            f"{', '.join(labels)})"
        )
    if not np.isfinite(m).all():
        i, j = np.argwhere(~np.isfinite(m))[0]
        raise LsctlError(f"{where}: entry [{i}][{j}] is {m[i, j]}; all entries must be finite")
    if (m < 0).any():
        i, j = np.argwhere(m < 0)[0]
        raise LsctlError(f"{where}: entry [{i}][{j}] is negative ({m[i, j]:g})")
    axis_name = "row" if stochastic == "rows" else "column"
    sums = m.sum(axis=1 if stochastic == "rows" else 0)
    bad = np.flatnonzero(np.abs(sums - 1.0) > TOL)
    if bad.size:
        i = int(bad[0])
        other = "columns" if stochastic == "rows" else "rows"
        raise LsctlError(
            f"{where}: {axis_name} {i} ({labels[i]}) sums to {sums[i]:.9g}, not 1 (±{TOL:g}); "
            f"with {_spell('stochastic', stochastic, where)} each {axis_name} must sum to 1 "
            f"(use {_spell('stochastic', other, where)} if your matrix's {other} sum to 1)"
        )
    t = m if stochastic == "rows" else m.T
    # Absorb the tolerated rounding so the sampler sees exact probabilities.
    return t / t.sum(axis=1, keepdims=True)


def _spell(name: str, value: str, where: str) -> str:
    """An option as the caller writes it: ``--stochastic rows`` or ``stochastic='rows'``."""
    from lsctl.validation import python_spelling

    return f"--{name} {value}" if where.startswith("--") else python_spelling(name, value)


def load_matrix(path: str, labels: Sequence[str]) -> np.ndarray:
    """Read a K×K matrix from CSV or JSON, reordered to ``labels`` if it names them.

    CSV: K rows of K numbers, optionally preceded by a header row of label names.
    JSON: a list of lists, or ``{"labels": [...], "matrix": [[...]]}``.
    Validation (shape, signs, sums) is :func:`validate`'s job.
    """
    if os.path.isdir(path):
        raise LsctlError(f"--matrix {path}: is a directory; give a CSV or JSON file")
    if not os.path.isfile(path):
        raise LsctlError(f"--matrix {path}: no such file")
    try:
        with open(path, encoding="utf-8") as f:
            raw = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise LsctlError(f"--matrix {path}: cannot read ({e})") from e
    names: list[str] | None = None
    if path.lower().endswith(".json") or raw.lstrip().startswith(("[", "{")):
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise LsctlError(f"--matrix {path}: not valid JSON ({e})") from e
        if isinstance(obj, dict):
            if "matrix" not in obj:
                raise LsctlError(f'--matrix {path}: a JSON object needs a "matrix" key')
            names = obj.get("labels")
            obj = obj["matrix"]
        rows = obj
    else:
        rows = [r for r in csv.reader(raw.splitlines()) if any(c.strip() for c in r)]
        if rows and not _numeric(rows[0]):
            names, rows = [c.strip() for c in rows[0]], rows[1:]
    try:
        m = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise LsctlError(
            f"--matrix {path}: expected rows of numbers of equal length (K×K, K={len(labels)})"
        ) from None
    if names is not None:
        names = [str(n) for n in names]
        if sorted(names) != sorted(labels) or len(set(names)) != len(names):
            raise LsctlError(
                f"--matrix {path}: its labels {names} are not the dataset's labels {list(labels)}"
            )
        order = [names.index(lab) for lab in labels]
        if m.ndim == 2 and m.shape == (len(names), len(names)):
            m = m[np.ix_(order, order)]
    return m


def _numeric(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except ValueError:
        return False
    return True


def noise_rate(t: np.ndarray, class_counts: np.ndarray) -> float:
    """Expected fraction of labels changed: Σ_c π_c (1 − T[c, c])."""
    n = class_counts.sum()
    return float((class_counts * (1.0 - np.diag(t))).sum() / n) if n else 0.0


def parse_pairs(values: list[str], labels: list[str]) -> list[tuple[int, int]]:
    """``["A:B", …]`` label-name pairs → index pairs; labels may contain ':'."""
    index = {lab: i for i, lab in enumerate(labels)}
    out = []
    for item in values:
        # Labels may contain ':' themselves, so try every split point.
        splits = [
            (item[:p], item[p + 1 :])
            for p in range(len(item))
            if item[p] == ":" and item[:p] in index and item[p + 1 :] in index
        ]
        if not splits and ":" not in item:
            raise LsctlError(
                f"--pair {item!r}: no ':'; use SOURCE:TARGET with labels from {', '.join(labels)}"
            )
        if not splits:
            src, _, dst = item.partition(":")
            unknown = [x for x in (src, dst) if x not in index] or [item]
            raise LsctlError(
                f"--pair {item!r}: unknown label {unknown[0]!r}; "
                f"use SOURCE:TARGET with labels from {', '.join(labels)}"
            )
        a, b = splits[0]
        if a == b:
            raise LsctlError(f"--pair {item!r} maps {a!r} to itself; give two different labels")
        out.append((index[a], index[b]))
    return out
