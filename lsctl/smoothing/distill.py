"""LS-Distill (Zhang & Sabuncu 2020): targets = softmax(teacher logits / T); METHODS.md §1.

The teacher's logits come from a predictions artifact written by ``lsctl eval``
on the same rows, matched by ``id``. T applies to the teacher only (no T²
factor). ``--mix α`` blends the teacher with the hard label,
``(1−α)·onehot(y) + α·softmax(z/T)``: since cross-entropy is linear in its
targets, training ``--loss soft`` on these is exactly the authors'
``(1−α)·CE(y) + α·CE(d)`` (they use α = 0.4); α = 1 (default) is the pure
teacher.

In-sample teachers: a teacher that predicted on its own training rows has
seen their labels, so its targets are over-confident copies of them. The rule
used to warn: the teacher's predictions are *in-sample* when the dataset they
were made on (``dataset_sha256`` in their metadata) has the same content hash
as the teacher run's training input, or as one of that training file's own
recorded inputs (a run trained on soft labels made from the same dataset).
With a single teacher file the same check runs on DATA itself when its hash
is known. ``--teacher A.parquet,B.parquet`` combines out-of-fold prediction
files covering disjoint ids (docs/eval.md); they pass the check because each
fold's teacher was trained on the other fold's file.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lsctl.artifacts.meta import training_hashes
from lsctl.errors import LsctlError
from lsctl.numeric import softmax
from lsctl.params import Param
from lsctl.smoothing.base import Context, Method
from lsctl.validation import ParameterError

DEFAULT_TEMPERATURE = 4.0  # Zhang & Sabuncu 2020


def distill_targets(logits: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(z / T) per row, max-subtracted in float64."""
    return softmax(np.asarray(logits, dtype=np.float64) / temperature)


class Distill(Method):
    name = "distill"
    help = "softmax(teacher logits / T) from `lsctl eval` predictions matched by id; --teacher, --temperature"
    # --teacher takes one predictions file, or several comma-separated out-of-fold
    # files covering disjoint ids (docs/eval.md).
    options = (
        Param("teacher", str, None, "teacher predictions from `lsctl eval`."),
        Param(
            "temperature",
            float,
            None,
            f"softmax temperature T [{DEFAULT_TEMPERATURE:g}].",
            low=0,
            low_open=True,
            hint="(e.g. {temperature:v=4})",
        ),
        Param(
            "mix",
            float,
            None,
            "weight α of the teacher, (1−α)·onehot + α·teacher [1]; the authors' 0.4 with "
            "--loss soft is their (1−α)·CE + α·CE(teacher).",
            low=0,
            high=1,
            hint="(the authors use 0.4; 1 = teacher only)",
        ),
        Param(
            "teacher_labels",
            str,
            None,
            "label order A,B,… of the teacher's logits/probs, for a file without lsctl "
            "metadata (another toolkit's, or rewritten by pandas) and no pred column.",
            labels=True,
        ),
    )

    def validate(self, params: dict[str, Any]) -> None:
        if not params.get("teacher"):
            raise ParameterError(
                "{method} needs {teacher:n}: the teacher's predictions on the same rows, "
                "from `lsctl eval RUN DATA -o PREDS`",
                method="distill",
                teacher=None,
            )
        super().validate(params)

    def prepare(self, ctx: Context) -> None:
        self.validate(ctx.params)
        t = ctx.params.get("temperature")
        self.temperature = float(DEFAULT_TEMPERATURE if t is None else t)
        mix = ctx.params.get("mix")
        self.mix = 1.0 if mix is None else float(mix)
        # The values used, defaults included, go into the output's params.
        ctx.info["temperature"], ctx.info["mix"] = self.temperature, self.mix
        if self.mix < 1:
            ctx.require_labels()
        paths = [p.strip() for p in str(ctx.params["teacher"]).split(",") if p.strip()]
        data_hash = _data_hash(ctx)
        self.path = ",".join(paths)
        ctx.info["teacher"] = {"paths": [os.path.abspath(p) for p in paths]}
        parts = [self._load(ctx, path, data_hash, single=len(paths) == 1) for path in paths]
        self.logits = np.concatenate([z for _, z in parts])
        self.ids = pa.concat_arrays([ids for ids, _ in parts])
        if pc.count_distinct(self.ids).as_py() != len(self.ids):
            counts = pc.value_counts(self.ids)
            dup = pc.filter(counts, pc.greater(counts.field("counts"), 1))[0]["values"].as_py()
            raise LsctlError(
                f"{self.path}: id {dup!r} has more than one teacher prediction; "
                "out-of-fold files must cover disjoint rows"
            )
        # Which teacher rows a DATA row has taken (each may serve only one).
        self._used = np.zeros(len(self.ids), dtype=bool)

    def _load(
        self, ctx: Context, path: str, data_hash: str | None, single: bool
    ) -> tuple[pa.Array, np.ndarray]:
        """One teacher file: its ids and its logits in DATA's label order."""
        reader = ctx.add_input(path, "teacher")
        meta = reader.meta or {}
        if meta.get("kind") not in (None, "predictions"):
            raise LsctlError(
                f"{path}: is a {meta['kind']} artifact; --teacher expects predictions from lsctl eval"
            )
        names = reader.schema.names
        column = "logits" if "logits" in names else "probs" if "probs" in names else None
        if "id" not in names or column is None:
            raise LsctlError(
                f"{path}: needs columns 'id' and 'logits' (or 'probs'); write it with lsctl eval"
            )
        # Without lsctl metadata (a file rewritten by pandas, or another toolkit's),
        # a `pred` column may still prove the order of the vector's positions.
        table = reader.read(["id", column, *(["pred"] if "pred" in names else [])])
        from lsctl.artifacts import vector_labels

        teacher_labels = vector_labels(
            table,
            meta,
            path,
            column,
            ctx.params.get("teacher_labels"),
            prove_with="pred",
            option="--teacher-labels",
        )
        if not ctx.labels:
            # Unlabelled DATA: the teacher's label order is the only one there is.
            ctx.labels = list(teacher_labels)
        if sorted(teacher_labels) != sorted(ctx.labels):
            raise LsctlError(
                f"{path}: teacher labels {teacher_labels} differ from DATA's labels {ctx.labels}; "
                "the teacher must be trained on the same label set"
            )
        from lsctl.artifacts import check_distributions, prob_matrix

        z = prob_matrix(table.column(column), len(teacher_labels), path, column)
        if column == "probs":
            check_distributions(z, path, column)
            # softmax(log p / T) ∝ p^(1/T): the same targets when only probabilities are stored.
            z = np.log(np.maximum(z, np.finfo(np.float64).tiny))
        if not np.isfinite(z).all():
            row = int(np.argmax(~np.isfinite(z).all(axis=1)))
            raise LsctlError(f"{path}: row {row} has NaN or infinite {column}")
        order = [teacher_labels.index(lab) for lab in ctx.labels]

        in_sample = training_hashes(meta.get("run_config"))
        taught_on = meta.get("dataset_sha256")
        if in_sample and (taught_on in in_sample or (single and data_hash in in_sample)):
            ctx.info["teacher"]["in_sample"] = True
            ctx.warn(
                f"{path}: the teacher predicted on its own training rows (in-sample), so its "
                "targets mostly copy the labels; use out-of-fold teacher predictions "
                "(see docs/eval.md)"
            )
        elif single and data_hash and taught_on and data_hash != taught_on:
            ctx.warn(
                f"{path}: the teacher predicted on a different file than DATA; rows are "
                "matched by id only"
            )
        return table.column("id").combine_chunks(), z[:, order]

    def targets(self, ctx: Context, batch: pa.RecordBatch, start: int) -> np.ndarray:
        ids = batch.column("id")
        value_set = self.ids
        if ids.type != value_set.type:
            ids, value_set = ids.cast(pa.string()), value_set.cast(pa.string())
        pos = pc.index_in(ids, value_set=value_set)
        if pos.null_count:
            missing = pc.filter(ids, pc.is_null(pos))[0].as_py()
            raise LsctlError(
                f"{self.path}: no teacher prediction for id {missing!r} of {ctx.where}; "
                "run `lsctl eval` on the same DATA"
            )
        idx = pos.to_numpy(zero_copy_only=False).astype(np.int64)
        # Each teacher row serves one DATA row: a repeated id would copy one
        # target onto every row that carries it.
        again = self._used[idx] | _repeats(idx)
        if again.any():
            raise LsctlError(
                f"{ctx.where}: id {ids[int(np.flatnonzero(again)[0])].as_py()!r} is on more "
                "than one row; ids must name one row each (re-import with `lsctl data import`)"
            )
        self._used[idx] = True
        d = distill_targets(self.logits[idx], self.temperature)
        if self.mix < 1:
            d *= self.mix
            d[np.arange(len(d)), ctx.label_indices(batch)] += 1.0 - self.mix
        return d


def _repeats(idx: np.ndarray) -> np.ndarray:
    """True where a value already occurred earlier in ``idx``."""
    first = np.zeros(len(idx), dtype=bool)
    first[np.unique(idx, return_index=True)[1]] = True
    return ~first


def _data_hash(ctx: Context) -> str | None:
    """DATA's content hash when DATA is a plain file (a stream's is known only after reading)."""
    if ctx.where and ctx.where != "-" and os.path.isfile(ctx.where):
        from lsctl.artifacts import file_sha256

        return file_sha256(ctx.where)
    return None
