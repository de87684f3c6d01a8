"""examples/_md_table.py: the numbers in the example results tables."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REPO


@pytest.fixture(scope="module")
def md():
    spec = importlib.util.spec_from_file_location("_md_table", REPO / "examples" / "_md_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def parse_md(text: str) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, (c.strip() for c in ln.strip("|").split("|")), strict=True))
        for ln in lines[2:]
    ]


@pytest.mark.parametrize(
    ("acc", "frac", "expected"),
    [
        ([0.5, 0.8, 0.9, 1.0], 0.95, 4),  # 0.95·1.0 only reached at the end
        ([0.5, 0.96, 0.9, 1.0], 0.95, 2),  # first crossing, even if it dips later
        ([0.7, 0.6, 0.5], 0.95, 1),  # best at epoch 1
        ([0.5, 0.8, 0.9, 1.0], 0.8, 2),  # 0.8 reached exactly
    ],
)
def test_epochs_to_fraction_by_hand(acc, frac, expected):
    # The convergence table reads what `lsctl eval` computed with this function.
    from lsctl.evaluate.convergence import epochs_to_fraction

    assert epochs_to_fraction(acc, None, (frac,))[f"epochs_to_{round(100 * frac)}"] == expected


def test_compare_table_from_json(md, tmp_path):
    rows = [
        {
            "system": "kwls",
            "baseline": "ce",
            "metric": "accuracy",
            "mean": 0.9123,
            "baseline_mean": 0.9,
            "delta": 0.0123,
            "ci_low": 0.001,
            "ci_high": 0.02,
            "p_bootstrap": 0.0004,
            "p_ttest": 0.2,
            "p_wilcoxon": None,
            "p_mcnemar": 0.01,
            "p_adjusted": 0.0008,
            "verdict": "better",
        }
    ]
    path = tmp_path / "cmp.json"
    path.write_text(json.dumps({"metric": "accuracy", "n": 100, "rows": rows}))
    (row,) = parse_md(md.compare_md([str(path)]))
    assert row["system"] == "kwls" and row["vs"] == "ce"
    assert row["Δ"] == "+0.0123"
    assert row["95% CI of Δ"] == "[+0.0010, +0.0200]"
    assert row["p boot"] == "4.0e-04"
    assert row["p Wilcoxon"] == "–"
    assert row["verdict"] == "better"


def test_compare_files_of_one_metric_make_one_table(md, tmp_path):
    def write(name, baseline, metric="accuracy"):
        row = {"system": "kwls", "baseline": baseline, "metric": metric, "mean": 0.9,
               "baseline_mean": 0.8, "delta": 0.1, "ci_low": 0.0, "ci_high": 0.2,
               "p_bootstrap": 0.01, "p_ttest": None, "p_wilcoxon": None, "p_mcnemar": None,
               "p_adjusted": 0.02, "verdict": "better"}  # fmt: skip
        path = tmp_path / name
        path.write_text(json.dumps({"metric": metric, "rows": [row]}))
        return str(path)

    text = md.compare_md(
        [write("a.json", "ls"), write("b.json", "tfidf"), write("c.json", "ce", "ece")]
    )
    tables = text.strip().split("\n\n")
    assert len(tables) == 2  # accuracy (two rows), then ece
    assert [r["vs"] for r in parse_md(tables[0])] == ["ls", "tfidf"]
    assert [r["vs"] for r in parse_md(tables[1])] == ["ce"]


def test_convergence_table_groups_seeds(md, tmp_path):
    """The table averages what `lsctl eval` stamped, per system over seeds."""
    from lsctl.artifacts import make_meta, write_artifact
    from lsctl.evaluate.convergence import epochs_to_fraction

    curves = {"ce-s1": [0.5, 0.9, 1.0], "ce-s2": [0.9, 0.8, 0.85], "ls0.1-s1": [0.2, 0.4, 0.8]}
    paths = []
    for name, acc in curves.items():
        conv = epochs_to_fraction(acc, [10, 20, 30])
        meta = make_meta("predictions", ["a"], name=name.split("-s")[0], convergence=conv)
        paths.append(str(tmp_path / f"{name}.parquet"))
        write_artifact(pa.table({"id": [0], "label": ["a"], "pred": ["a"]}), paths[-1], meta)
    rows = {r["system"]: r for r in parse_md(md.convergence_md(paths))}
    assert set(rows) == {"ce", "ls0.1"}
    # ce: epochs 3 and 1 → mean 2.0, sd √2; steps 30 and 10; best 1.0 and 0.9 → 95.00 ± 7.07
    assert rows["ce"]["seeds"] == "2"
    assert rows["ce"]["epochs to 95% of best dev acc"] == f"2.0 ± {np.sqrt(2):.1f}"
    assert rows["ce"]["steps to 95%"] == f"20.0 ± {np.std([30, 10], ddof=1):.1f}"
    assert rows["ce"]["best dev acc %"] == f"95.00 ± {np.std([100, 90], ddof=1):.2f}"
    assert rows["ls0.1"]["epochs to 95% of best dev acc"] == "3.0"
    # A predictions file without the stamp is refused, not read as zero.
    bare = tmp_path / "bare.parquet"
    write_artifact(pa.table({"id": [0]}), str(bare), make_meta("predictions", ["a"], name="x"))
    with pytest.raises(SystemExit):
        md.convergence_md([str(bare)])


def test_targets_table_never_guesses_the_label_order(md, tmp_path):
    """Issue 13, item 2: a soft-label file without metadata gets its order from the rows."""
    import pandas as pd

    from lsctl.artifacts import make_meta, write_artifact
    from lsctl.errors import LsctlError

    order = ["positive", "negative"]  # not sorted
    gold = ["positive", "negative", "negative", "positive", "negative"]
    eps = 0.2
    soft = np.full((5, 2), eps / 2)
    soft[np.arange(5), [order.index(g) for g in gold]] += 1 - eps
    table = pa.table(
        {
            "text": list("abcde"),
            "label": gold,
            "soft_label": pa.FixedSizeListArray.from_arrays(
                pa.array(soft.astype(np.float32).ravel()), 2
            ),
        }
    )
    path = tmp_path / "u.parquet"
    write_artifact(table, str(path), make_meta("softlabels", order))
    plain = tmp_path / "plain.parquet"
    pd.read_parquet(path).to_parquet(plain)  # the metadata is gone
    (row,) = parse_md(md.targets_md([f"u={plain}"]))
    values = list(row.values())
    assert values[2] == "100.0" and values[3] == f"{1 - eps + eps / 2:.3f}"

    soft[0] = [0.4, 0.6]  # a positive row leaning negative: the rows prove nothing now
    table = table.set_column(
        2,
        "soft_label",
        pa.FixedSizeListArray.from_arrays(pa.array(soft.astype(np.float32).ravel()), 2),
    )
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(LsctlError, match="label order"):
        md.targets_md([f"b={tmp_path / 'bad.parquet'}"])
