"""Question and sentence artifacts, folds, pools and gold sets.

Questions hold ``qid``, ``question``, ``sentence_id`` (the gold sentence) and
optionally ``fold``; sentences hold ``sentence_id``, ``sentence`` and
optionally ``fold`` (the layout of ``datasets/reqa_squad``). A question's gold
set is every pool sentence whose text equals its gold sentence's text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lsctl.artifacts import read_artifact, require_columns
from lsctl.artifacts.columns import as_numpy
from lsctl.errors import LsctlError, UsageError
from lsctl.validation import check_one_stdin

POOLS = ("all", "fold")
QUESTION_COLUMNS = ("qid", "question", "sentence_id")
SENTENCE_COLUMNS = ("sentence_id", "sentence")


@dataclass
class Corpus:
    """Questions of one fold and the pool they rank."""

    questions: pa.Table  # qid, question, sentence_id (the selected questions)
    pool: pa.Table  # sentence_id, sentence (the candidates, in artifact order)
    gold_group: np.ndarray  # per question: the text group of its gold sentence
    pool_group: np.ndarray  # per pool sentence: its text group
    pool_name: str  # all | fold
    fold: str  # the questions' fold, or "all"
    inputs: list[str]
    readers: list

    @property
    def question_texts(self) -> pa.ChunkedArray:
        return self.questions.column("question")

    @property
    def pool_texts(self) -> pa.ChunkedArray:
        return self.pool.column("sentence")

    def gold_mask(self, rows: np.ndarray) -> np.ndarray:
        """Bool (len(rows) × pool size): which pool sentences are gold for these questions."""
        return self.pool_group[None, :] == self.gold_group[rows, None]


def _strings(table: pa.Table, name: str, where: str) -> pa.ChunkedArray:
    col = table.column(name)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = pc.cast(col, pa.string())
    if col.null_count:
        raise LsctlError(f"{where}: column {name!r} has {col.null_count} null values")
    return col


def _indices(x: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if isinstance(x, pa.ChunkedArray):
        x = x.combine_chunks()
    return as_numpy(x).astype(np.int64)


def check_pool(pool: str, fold: str) -> None:
    """``pool`` is 'all' or 'fold'; 'fold' needs one fold to rank within."""
    if pool not in POOLS:
        raise UsageError(f"--pool {pool!r}: choose 'all' (ReQA: every sentence) or 'fold'")
    if pool == "fold" and fold == "all":
        # Every sentence would be the pool, recorded as the leak-free 'fold' one.
        raise UsageError(
            "--pool fold ranks within the questions' own fold, and --fold all is every fold; "
            "use --pool all, or one fold (e.g. --fold test)"
        )


def select_fold(table: pa.Table, fold: str, where: str) -> pa.Table:
    """Rows of ``fold`` ('all' keeps every row); refuses an absent fold or fold column."""
    if fold == "all":
        return table
    if "fold" not in table.column_names:
        raise LsctlError(f"{where}: no column 'fold'; use --fold all or add the fold column")
    folds = _strings(table, "fold", where)
    kept = table.filter(pc.equal(folds, fold))
    if kept.num_rows == 0:
        have = sorted(set(folds.to_pylist()))
        raise LsctlError(f"{where}: no row of fold {fold!r}; the folds are {have}")
    return kept


def load_corpus(questions: str, sentences: str, fold: str, pool: str) -> Corpus:
    """Read both artifacts; keep the questions of ``fold`` and the pool ``pool``."""
    check_pool(pool, fold)
    check_one_stdin({"questions": questions, "sentences": sentences})
    qt, qr = read_artifact(questions)
    st, sr = read_artifact(sentences)
    require_columns(qt, list(QUESTION_COLUMNS), questions)
    require_columns(st, list(SENTENCE_COLUMNS), sentences)
    qt = select_fold(qt, fold, questions)
    st_pool = st if pool == "all" else select_fold(st, fold, sentences)
    return make_corpus(qt, st_pool, st, pool, fold, [questions, sentences], [qr, sr])


def make_corpus(
    qt: pa.Table,
    pool_table: pa.Table,
    all_sentences: pa.Table,
    pool: str,
    fold: str,
    inputs: list[str],
    readers: list,
) -> Corpus:
    """Gold groups by sentence text; the gold sentence itself is looked up in all sentences.

    ``inputs`` are the (questions, sentences) paths, used in messages and metadata.
    """
    qwhere, swhere = inputs
    q = pa.table(
        {
            "qid": _strings(qt, "qid", qwhere),
            "question": _strings(qt, "question", qwhere),
            "sentence_id": _strings(qt, "sentence_id", qwhere),
        }
    )
    p = pa.table(
        {
            "sentence_id": _strings(pool_table, "sentence_id", swhere),
            "sentence": _strings(pool_table, "sentence", swhere),
        }
    )
    ids_all = _strings(all_sentences, "sentence_id", swhere)
    text_all = _strings(all_sentences, "sentence", swhere)
    if pc.count_distinct(ids_all).as_py() != len(ids_all):
        raise LsctlError(f"{swhere}: sentence_id values are not unique")
    where_gold = pc.index_in(q.column("sentence_id"), value_set=ids_all.combine_chunks())
    if where_gold.null_count:
        missing = q.column("sentence_id").filter(pc.is_null(where_gold))[0].as_py()
        raise LsctlError(f"{qwhere}: gold sentence {missing!r} is not in {swhere}")
    gold_text = text_all.take(where_gold)
    # Text groups: the index of each text among the pool's distinct texts.
    distinct = pc.unique(p.column("sentence").combine_chunks())
    pool_group = _indices(pc.index_in(p.column("sentence"), value_set=distinct))
    gold_idx = pc.index_in(gold_text, value_set=distinct)
    if gold_idx.null_count:
        raise LsctlError(
            f"{qwhere}: {gold_idx.null_count} questions have their gold sentence outside the "
            f"pool (--pool {pool}); use --pool all or the questions' own fold"
        )
    gold_group = _indices(gold_idx)
    return Corpus(q, p, gold_group, pool_group, pool, fold, inputs, readers)
