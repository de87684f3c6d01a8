"""The soft-label registry: its contents are pinned, and a new method is one source file.

Pinned like spaCy's registry-population test: adding, renaming or dropping a
method or one of its parameters must be a deliberate change of this list.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import lsctl
from lsctl.artifacts import read_artifact
from lsctl.params import Param
from lsctl.smoothing import registry
from lsctl.smoothing.base import Context, Method

EXPECTED = {
    "distill": ("teacher", "temperature", "mix", "teacher_labels"),
    "kwls": (
        "k1",
        "b",
        "k2",
        "tokenizer",
        "lowercase",
        "stopwords",
        "min_count",
        "keywords",
        "cross_fit",
        "seed",
    ),
    "nls": ("rate",),
    "tfidf": ("tokenizer", "lowercase", "stopwords", "min_count", "keywords", "cross_fit", "seed"),
    "uniform": ("epsilon", "convention"),
}


def test_registry_contents_are_pinned():
    found = {name: tuple(p.name for p in cls.options) for name, cls in registry.methods().items()}
    assert found == EXPECTED


def test_kwls_defaults_are_declared_once():
    from lsctl.smoothing import relevance

    assert (relevance.K1, relevance.B, relevance.K2) == (2.0, 0.75, 2.0)
    kwls = {p.name: p for p in registry.get("kwls").options}
    assert "[2.0," in kwls["k1"].help and "[0.75," in kwls["b"].help


class Power(Method):
    """A throw-away method: the one-hot vector sharpened towards uniform by ``power``.

    Everything it needs is here: its name, its parameter (type, default,
    range, help) and its targets. Nothing else in lsctl is edited for it.
    """

    name = "toy-power"
    help = "test only"
    options = (Param("power", float, 2.0, "toy: exponent in (0, 10].", low=0, high=10,
                     low_open=True),)  # fmt: skip

    def targets(self, ctx: Context, batch, start: int) -> np.ndarray:
        k = len(ctx.labels)
        y = ctx.label_indices(batch)
        d = np.full((len(y), k), 1.0)
        d[np.arange(len(y)), y] = 2.0 ** ctx.params["power"]
        return d / d.sum(axis=1, keepdims=True)


@pytest.fixture
def toy_method():
    registry.register(Power)
    yield Power
    registry.unregister(Power.name)


def _app() -> typer.Typer:
    from lsctl.cli.softlabel import build_command

    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("softlabel")(build_command())
    return app


def test_a_new_method_with_its_own_option_needs_no_other_edit(toy_method, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["a", "b", "c"], "label": ["x", "y", "x"]}), data)
    app, runner = _app(), CliRunner()

    help_text = runner.invoke(app, ["softlabel", "--help"], env={"COLUMNS": "200"}).output
    assert "--power" in help_text and "toy-power: toy: exponent in (0, 10]." in help_text
    assert "toy-power" in help_text  # listed among the --method choices

    out = tmp_path / "o.parquet"
    r = runner.invoke(app, ["softlabel", str(data), "-m", "toy-power", "--power", "3", "-o",
                            str(out), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    table, reader = read_artifact(str(out))
    # Hand-worked: one-hot weight 2^3 = 8 against 1 → 8/9 and 1/9.
    np.testing.assert_allclose(table.column("soft_label").to_pylist()[1], [1 / 9, 8 / 9], 1e-6)
    assert reader.meta["params"] == {"method": "toy-power", "power": 3.0}

    r = runner.invoke(app, ["softlabel", str(data), "-m", "toy-power", "--power", "11"])
    assert r.exit_code == 2
    assert "Error: --power 11.0 is outside (0, 10]" in r.output

    # The Python API takes it as a keyword, validated from the same declaration.
    df = pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"]})
    res = lsctl.soft_labels(df, "toy-power", power=1.0)
    want = [[2 / 3, 1 / 3], [1 / 3, 2 / 3]]
    np.testing.assert_allclose(np.stack(res["soft_label"].to_list()), want, 1e-6)
    with pytest.raises(lsctl.ParameterError, match=r"power=0\.0 is outside \(0, 10\]"):
        lsctl.soft_labels(df, "toy-power", power=0.0)


def test_a_parameter_declared_twice_differently_is_refused(toy_method):
    from lsctl.cli.softlabel import method_options

    class Clash(Method):
        name = "toy-clash"
        options = (Param("power", int, 1, "another meaning"),)

    registry.register(Clash)
    try:
        with pytest.raises(RuntimeError, match="'power' is declared differently"):
            method_options()
    finally:
        registry.unregister("toy-clash")


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (lambda d: d[:, :1], r"returned targets of shape \(3, 1\); expected \(3, 2\)"),
        (lambda d: np.where([[0], [1], [0]], np.nan, d), r"1 row has non-finite targets"),
    ],
)
def test_a_method_breaking_its_contract_is_named_and_nothing_is_written(tmp_path, broken, message):
    import pyarrow as pa
    import pyarrow.parquet as pq

    class Broken(Power):
        name = "toy-broken"

        def targets(self, ctx: Context, batch, start: int) -> np.ndarray:
            return broken(super().targets(ctx, batch, start))

    data = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["a", "b", "c"], "label": ["x", "y", "x"]}), data)
    registry.register(Broken)
    try:
        out = tmp_path / "o.parquet"
        r = CliRunner().invoke(_app(), ["softlabel", str(data), "-m", "toy-broken", "-o", str(out)])
        assert r.exit_code == 1
        assert re.search("Error: --method toy-broken.*" + message, r.output)
        assert not out.exists()
    finally:
        registry.unregister("toy-broken")
