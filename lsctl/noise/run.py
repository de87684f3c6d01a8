"""The ``noise`` pipeline, for the CLI (:func:`noise`) and the Python API (:func:`noisy_labels`).

:func:`noisy_labels` turns label indices into noisy ones under one of the
noise models; :func:`noise` reads a dataset artifact, applies it, and writes
the noisy dataset with its metadata (options, intended and realized T).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lsctl.errors import LsctlError
from lsctl.noise.inject import NoiseResult
from lsctl.progress import Progress
from lsctl.validation import ParameterError, check_choice

KINDS = ("symmetric", "pairflip", "asymmetric", "matrix", "instance")
CONVENTIONS = ("off-diagonal", "uniform")
STOCHASTIC = ("rows", "columns")
DEFAULT_CONVENTION = "off-diagonal"


def check_options(
    kind: str,
    rate: float | None,
    convention: str | None = None,
    pairs: Sequence[Any] | None = None,
    matrix: Any = None,
    stochastic: str = "rows",
    temperature: float | None = None,
) -> list[ParameterError]:
    """Refuse options of another kind (not silently ignored); returns warnings to show.

    Warnings are :class:`~lsctl.validation.ParameterError` objects that are
    not raised, so each interface spells their parameters its own way.
    """
    from lsctl.noise.transition import check_rate

    check_choice("kind", kind, KINDS)
    check_choice("stochastic", stochastic, STOCHASTIC)
    if convention is not None:
        check_choice("convention", convention, CONVENTIONS)
    warnings = []
    if kind == "matrix":
        if matrix is None:
            raise ParameterError(
                "{kind} needs {matrix:n} (a K×K transition matrix)", kind=kind, matrix=None
            )
        if rate is not None:
            warnings.append(
                ParameterError(
                    "{rate:n} is not used by {kind}; the realized rate is reported",
                    rate=rate,
                    kind=kind,
                )
            )
    elif rate is None:
        raise ParameterError("{kind} needs {rate:n} (a noise rate in [0, 1))", kind=kind, rate=None)
    else:
        check_rate(rate)
    for name, given, owner in (
        ("convention", convention is not None, "symmetric"),
        ("pairs", bool(pairs), "asymmetric"),
        ("matrix", matrix is not None, "matrix"),
        ("stochastic", stochastic != "rows", "matrix"),
        ("temperature", temperature is not None, "instance"),
    ):
        if given and kind != owner:
            raise ParameterError(
                f"{{{name}:n}} only applies to {{kind:v={owner}}}", **{name: given, "kind": kind}
            )
    return warnings


@dataclass
class Noised:
    """Noisy label indices, what was intended and realized, and the options used."""

    result: NoiseResult
    options: dict[str, Any]
    temperature: float | None = None
    offset: float | None = None
    warnings: list[ParameterError] = field(default_factory=list)


def noisy_labels(
    y: np.ndarray,
    labels: list[str],
    *,
    kind: str,
    rate: float | None = None,
    seed: int = 0,
    convention: str | None = None,
    pairs: Sequence[Any] | None = None,
    matrix: Any = None,
    stochastic: str = "rows",
    temperature: float | None = None,
    exact: bool = False,
    texts: Any = None,
    progress: Progress | None = None,
    where: str = "labels",
) -> Noised:
    """Noisy label indices for clean indices ``y`` (int, 0..K−1) over ``labels``.

    ``pairs``: ``"A:B"`` strings or ``(A, B)`` label pairs (asymmetric);
    ``matrix``: a K×K array, or a CSV/JSON file (matrix), read as ``stochastic``;
    ``texts``: the texts, which instance noise scores with KWLS relevance.
    """
    from lsctl.noise import inject as inj
    from lsctl.noise import transition as tr

    warnings = check_options(kind, rate, convention, pairs, matrix, stochastic, temperature)
    y = np.asarray(y, dtype=np.int64)
    k = len(labels)
    if len(y) == 0:
        raise LsctlError(f"{where}: no rows; nothing to add noise to")
    present = [labels[i] for i in np.unique(y)]
    if len(present) < 2:
        raise LsctlError(
            f"{where}: only {len(present)} class present ({', '.join(present) or 'no rows'}); "
            "label noise needs at least 2 classes"
        )
    if kind == "matrix":
        rate = None  # T alone defines the noise; the realized rate is what gets reported
    conv = convention or DEFAULT_CONVENTION
    pair_names = [p if isinstance(p, str) else f"{p[0]}:{p[1]}" for p in pairs or []]
    tau = offset = None
    if kind == "instance":
        from lsctl.noise.instance import DEFAULT_TEMPERATURE, instance_noise, keyword_relevance

        if texts is None:
            raise ParameterError("{kind} needs {texts:n} to score", kind=kind, texts=None)
        ilr = keyword_relevance(texts, y, k, progress)
        tau = DEFAULT_TEMPERATURE if temperature is None else temperature
        result, detail = instance_noise(ilr, y, rate, seed, tau, exact)  # type: ignore[arg-type]
        offset = detail.offset
    else:
        if kind == "symmetric":
            t = tr.symmetric(k, rate, conv)  # type: ignore[arg-type]
        elif kind == "pairflip":
            t = tr.pairflip(k, rate)  # type: ignore[arg-type]
        elif kind == "asymmetric":
            t = tr.asymmetric(k, rate, tr.parse_pairs(pair_names, labels))  # type: ignore[arg-type]
        else:
            given = tr.load_matrix(matrix, labels) if isinstance(matrix, str) else matrix
            # A file comes from the command line (--matrix); an array from Python.
            where = "--matrix" if isinstance(matrix, str) else "matrix"
            t = tr.validate(np.asarray(given, dtype=np.float64), labels, stochastic, where)
        result = inj.inject(y, t, seed, exact)
    options = {
        "kind": kind,
        "rate": rate,
        "seed": seed,
        "convention": conv if kind == "symmetric" else None,
        "pairs": pair_names,
        "matrix": matrix if isinstance(matrix, str) else None,
        "stochastic": stochastic if kind == "matrix" else None,
        "temperature": tau,
        "exact": exact,
    }
    return Noised(result, options, tau, offset, warnings)


@dataclass
class NoiseRun:
    """What ``lsctl noise`` reports: labels, the injection, and the written metadata."""

    output: str
    labels: list[str]
    result: NoiseResult
    noise_meta: dict[str, Any]
    stacked: bool
    noise_rate_vs_clean: float
    warnings: list[ParameterError]


def noise(
    data: str,
    output: str,
    *,
    kind: str,
    rate: float | None = None,
    seed: int = 0,
    convention: str | None = None,
    pairs: Sequence[str] | None = None,
    matrix: str | None = None,
    stochastic: str = "rows",
    temperature: float | None = None,
    exact: bool = False,
    stack: bool = False,
    progress: Progress | None = None,
) -> NoiseRun:
    """Read DATA, inject noise, write the noisy dataset with its metadata to ``output``.

    The output keeps every column; ``label`` becomes the noisy label and
    ``clean_label`` and ``is_noisy`` are added (a ``stack``-ed input keeps its
    original ``clean_label``).
    """
    from lsctl.artifacts import (
        check_output,
        label_indices,
        make_meta,
        read_artifact,
        resolve_labels,
        texts,
        write_artifact,
    )
    from lsctl.noise.inject import noisy_table

    check_options(kind, rate, convention, pairs, matrix, stochastic, temperature)
    check_output(output, [data])
    table, reader = read_artifact(data)
    where = data if data != "-" else "stdin"
    labels = resolve_labels(table, reader.meta, where)
    y = label_indices(table, labels, where)
    stacked = "clean_label" in table.column_names
    if stacked and not stack:
        raise LsctlError(
            f"{where}: already has a clean_label column (it is noisy already); pass --stack to "
            "add more noise and keep the original clean_label"
        )
    clean = label_indices(table, labels, where, column="clean_label") if stacked else y
    if kind == "instance":
        table = texts(table, where)
    noised = noisy_labels(
        y,
        labels,
        kind=kind,
        rate=rate,
        seed=seed,
        convention=convention,
        pairs=pairs,
        matrix=matrix,
        stochastic=stochastic,
        temperature=temperature,
        exact=exact,
        texts=table.column("text") if kind == "instance" else None,
        progress=progress,
        where=where,
    )
    result = noised.result
    vs_clean = float((result.noisy != clean).mean())
    opts = noised.options
    noise_meta: dict[str, Any] = {
        "kind": kind,
        "rate": opts["rate"],
        "seed": seed,
        "convention": opts["convention"],
        "exact": exact,
        "intended_T": result.intended.tolist(),
        "realized_T": result.realized.tolist(),
        "realized_rate": result.realized_rate,
        "intended_rate": result.intended_rate,
        "counts": result.counts.tolist(),
        "n": int(y.size),
        "n_flipped": int((result.noisy != y).sum()),
        "noise_rate_vs_clean": vs_clean,
        "stacked": stacked,
    }
    if noised.temperature is not None:
        noise_meta["temperature"] = noised.temperature
        noise_meta["offset"] = noised.offset
    if stacked and reader.meta and reader.meta.get("noise"):
        noise_meta["previous"] = reader.meta["noise"]
    params = {**opts, "pairs": list(pairs or []), "stack": stack}
    params["temperature"] = noise_meta.get("temperature")
    out = noisy_table(table, labels, result.noisy, clean, stacked)
    meta = make_meta("dataset", labels, params, [reader.input_record()], noise=noise_meta)
    write_artifact(out, output, meta, [data])
    return NoiseRun(output, labels, result, noise_meta, stacked, vs_clean, noised.warnings)
