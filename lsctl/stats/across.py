"""Prediction files from several datasets: group them, score each system per dataset.

A *dataset group* is the set of prediction files made on one test set: the
same ``dataset_sha256`` in their metadata (``lsctl eval`` records the hash of
the data it predicted), or the same name given by ``--dataset PATTERN=NAME``.
Within a group, files form systems as in ``lsctl compare`` (metadata ``name``,
seeds averaged), and are cross-checked the same way (one label set, one set of
ids with the same gold labels).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from lsctl.artifacts import open_artifact
from lsctl.errors import LsctlError
from lsctl.stats.bootstrap import instance_stats, point_estimate
from lsctl.stats.compare import System, TestSet, check_names, given_name, load_predictions


@dataclass
class DatasetGroup:
    """One test set: its name, the files on it, and (once loaded) its systems."""

    name: str
    key: str
    paths: list[str]
    test: TestSet | None = None
    systems: list[System] | None = None


def _data_name(meta: dict) -> str | None:
    """``folder/file`` of the predicted data, from the first input record of the metadata."""
    for rec in meta.get("inputs") or []:
        path = rec.get("path") if isinstance(rec, dict) else None
        if path and path != "-":
            parent = os.path.basename(os.path.dirname(path))
            stem = os.path.splitext(os.path.basename(path))[0]
            return f"{parent}/{stem}" if parent else stem
    return None


def group_by_dataset(
    paths: list[str], datasets_given: dict[str, str] | None = None
) -> list[DatasetGroup]:
    """Group prediction files by test set, in first-seen order.

    Parameters
    ----------
    paths : list of str
        Prediction files (``lsctl eval -o``); '-' is refused, each file is read twice.
    datasets_given : dict of str to str, optional
        ``PATTERN -> NAME`` (``--dataset``): files matching the glob (the path or
        its file name) form the dataset NAME, whatever their metadata says.

    Returns
    -------
    list of DatasetGroup
        Named by ``--dataset``, or by the predicted data's ``folder/file`` (with
        the hash's first 8 digits added when two test sets share that name).
    """
    given = datasets_given or {}
    groups: dict[str, DatasetGroup] = {}
    for path in paths:
        if path == "-":
            raise LsctlError("rank reads each prediction file twice; give files, not '-'")
        name = given_name(path, given)
        if name is not None:
            key = "name:" + name
        else:
            meta = open_artifact(path).meta or {}
            sha = meta.get("dataset_sha256")
            if not sha:
                raise LsctlError(
                    f"{path}: no dataset hash in its metadata (not written by `lsctl eval`); "
                    "name its dataset with --dataset PATTERN=NAME"
                )
            key = "sha:" + str(sha)
            name = _data_name(meta) or str(sha)[:8]
        g = groups.setdefault(key, DatasetGroup(name, key, []))
        g.paths.append(path)
    # Two test sets called alike (train/test.parquet of two corpora under one
    # folder name): the hash tells them apart in the tables.
    by_name: dict[str, list[DatasetGroup]] = {}
    for g in groups.values():
        by_name.setdefault(g.name, []).append(g)
    for same in by_name.values():
        if len(same) > 1:
            for g in same:
                if g.key.startswith("sha:"):
                    g.name = f"{g.name}@{g.key[4:12]}"
    return list(groups.values())


def load_across(
    paths: list[str],
    datasets_given: dict[str, str] | None = None,
    names_given: dict[str, str] | None = None,
) -> list[DatasetGroup]:
    """Group files by dataset and load each group as ``lsctl compare`` would.

    Raises ``LsctlError`` for fewer than 2 datasets, a dataset with fewer than
    2 systems, a system missing on some dataset, and everything
    ``load_predictions`` refuses within a group (mixed label sets, different
    ids or gold labels, a seed given twice).
    """
    check_names(names_given, paths)
    check_names(datasets_given, paths, "--dataset", "dataset name")
    groups = group_by_dataset(paths, datasets_given)
    if len(groups) < 2:
        only = groups[0].name if groups else "none"
        raise LsctlError(
            f"all files are on one dataset ({only}); ranking needs prediction files from at "
            "least 2 datasets (one `lsctl eval` per system, seed and test set)"
        )
    for g in groups:
        if len(g.paths) < 2:
            raise LsctlError(
                f"dataset {g.name}: only {g.paths[0]}; every dataset needs the files of at "
                "least 2 systems"
            )
        try:
            g.test, g.systems = load_predictions(g.paths, None, names_given)
        except LsctlError as e:
            raise LsctlError(f"dataset {g.name}: {e}", e.exit_code) from e
    every = {s.name for g in groups for s in g.systems or []}
    for g in groups:
        missing = sorted(every - {s.name for s in g.systems or []})
        if missing:
            raise LsctlError(
                f"dataset {g.name}: no predictions of system {missing[0]!r}; every system "
                "must be evaluated on every dataset (or leave it out; files of one test set "
                "that `lsctl eval` saw under different hashes join with --dataset PATTERN=NAME)"
            )
    return groups


def score_matrix(
    groups: list[DatasetGroup], metric: str, bins: int = 15
) -> tuple[np.ndarray, list[str], list[str], list[list[int]]]:
    """Each system's mean score over its seeds on each dataset.

    Returns
    -------
    scores : ndarray, shape (n_datasets, n_systems)
    systems : list of str
        Column names, in the order systems first appear.
    datasets : list of str
        Row names.
    seeds : list of list of int
        Number of seed files behind each score, same shape as ``scores``.
    """
    systems: list[str] = []
    for g in groups:
        for s in g.systems or []:
            if s.name not in systems:
                systems.append(s.name)
    scores = np.empty((len(groups), len(systems)))
    seeds = [[0] * len(systems) for _ in groups]
    for i, g in enumerate(groups):
        assert g.test is not None and g.systems is not None
        k = len(g.test.labels)
        for s in g.systems:
            j = systems.index(s.name)
            values = [
                point_estimate(metric, instance_stats(metric, p.probs, g.test.y, k, bins), k)
                for p in s.seeds
            ]
            scores[i, j] = float(np.mean(values))
            seeds[i][j] = len(values)
    return scores, systems, [g.name for g in groups], seeds
