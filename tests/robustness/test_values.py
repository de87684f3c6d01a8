"""Values that pass a range check but poison results (issue 13, item 16).

NaN and ±inf are refused for every float option of every command (found by
walking the click tree, so a new option is covered without touching this
file), and probability/target rows must sum to 1.
"""

from __future__ import annotations

import typing

import numpy as np
import pytest
import typer
from robustkit import one_error

from lsctl.artifacts import check_distributions, make_meta, prob_array, write_artifact
from lsctl.errors import LsctlError


def _is_float(p) -> bool:
    # The click parameter type, which every typer version fills in.
    return p.type.name in ("float", "float range")


def _float_options() -> list[tuple[list[str], typing.Any]]:
    from lsctl.cli.app import app

    root = typer.main.get_command(app)
    out = []

    def walk(cmd: typing.Any, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
            return
        for p in cmd.params:
            if p.param_type_name == "option" and _is_float(p):
                out.append((path, p))

    walk(root, [])
    return out


def _required_args(path: list[str]) -> list[str]:
    """Placeholders for the required parameters: the finiteness check comes first."""
    from lsctl.cli.app import app

    cmd = typer.main.get_command(app)
    for name in path:
        cmd = cmd.commands[name]
    args: list[str] = []
    for p in cmd.params:
        if p.param_type_name == "argument" and p.required:
            args.append("missing.parquet")
        elif p.param_type_name == "option" and p.required:
            choices = getattr(p.type, "choices", None)
            args += [p.opts[0], choices[0] if choices else "missing.parquet"]
    return args


FLOAT_OPTIONS = _float_options()


def test_the_walk_finds_the_float_options_the_issue_names():
    names = {(" ".join(path), max(p.opts, key=len)) for path, p in FLOAT_OPTIONS}
    for expected in (
        ("keywords", "--k1"),
        ("train", "--label-smoothing"),
        ("train", "--weight-decay"),
        ("compare", "--alpha"),
        ("noise", "--rate"),
    ):
        assert expected in names


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
@pytest.mark.parametrize(
    ("path", "opt"),
    FLOAT_OPTIONS,
    ids=[f"{' '.join(a)}{max(o.opts, key=len)}" for a, o in FLOAT_OPTIONS],
)
def test_every_float_option_refuses_non_finite_values(cli, tmp_path, monkeypatch, path, opt, bad):
    monkeypatch.chdir(tmp_path)
    name = max(opt.opts, key=len)
    r = cli(*path, *_required_args(path), f"{name}={bad}")
    one_error(r, 2, name, "not a finite number")
    assert list(tmp_path.iterdir()) == []


def test_keywords_k1_inf_writes_nothing(cli, tmp_path):
    from robustkit import write_dataset

    data = write_dataset(str(tmp_path / "d.parquet"))
    one_error(cli("keywords", data, "--k1", "inf", "-o", tmp_path / "kw.parquet"), 2, "--k1")
    one_error(
        cli("data", "sample", data, "-o", tmp_path / "s.parquet", "--ratio", "neg=nan"),
        2,
        "--ratio",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.parquet"]


def test_check_distributions_by_hand():
    ok = np.array([[0.2, 0.8], [0.5, 0.5]])
    check_distributions(ok, "x", "probs")
    with pytest.raises(LsctlError, match=r"row 1 sums to 2"):
        check_distributions(np.array([[0.2, 0.8], [1.0, 1.0]]), "x", "probs")
    with pytest.raises(LsctlError, match=r"id 'b' has a negative probs"):
        check_distributions(np.array([[0.2, 0.8], [-0.5, 1.5]]), "x", "probs", ids=["a", "b"])
    with pytest.raises(LsctlError, match="NaN or infinite"):
        check_distributions(np.array([[np.nan, 1.0]]), "x", "probs")
    # NLS targets: negative entries, still summing to 1 (r = -0.2, K = 2).
    check_distributions(np.array([[-0.1, 1.1], [1.1, -0.1]]), "x", "t", negative_ok=True)
    # Within 1e-4 is a float32 rounding, not an error; beyond it is.
    check_distributions(np.array([[0.3, 0.70009]]), "x", "probs")
    with pytest.raises(LsctlError):
        check_distributions(np.array([[0.3, 0.7002]]), "x", "probs")


def test_train_refuses_soft_labels_summing_to_two(cli, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
    from trainkit import LABELS, make_texts, uniform_by_hand, write_dataset

    _, gold = make_texts(30, 0)
    soft = 2 * uniform_by_hand(gold, 0.1)
    data = write_dataset(tmp_path / "soft.parquet", n=30, soft=soft)
    assert len(LABELS) == 3
    r = cli("train", data, "-o", tmp_path / "run", "--loss", "soft", "--epochs", "1", "-q")
    one_error(r, 1, "soft_label", "does not sum to 1", "sums to 2")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("scale", "needle"), [(3.0, "sums to 3"), (-1.0, "negative")])
def test_compare_refuses_probabilities_that_are_not_distributions(cli, tmp_path, scale, needle):
    from lsctl.evaluate.run import predictions_table

    labels = ["neg", "pos"]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 40)
    files = []
    for name in ("base", "other"):
        table, _ = predictions_table(np.arange(40), labels, y, rng.normal(size=(40, 2)))
        if name == "other":
            probs = np.asarray(table.column("probs").combine_chunks().flatten()).reshape(-1, 2)
            i = table.schema.get_field_index("probs")
            table = table.set_column(i, "probs", prob_array(scale * probs))
        path = tmp_path / f"{name}.parquet"
        write_artifact(table, str(path), make_meta("predictions", labels, name=name, seed=1))
        files.append(path)
    r = cli("compare", *files, "--baseline", "base", "--metric", "nll")
    one_error(r, 1, "other.parquet", needle)
