"""TrainConfig is the one source of `lsctl train`'s defaults."""

from __future__ import annotations

import ast
import dataclasses

from conftest import REPO

from lsctl.train.config import TrainConfig


def test_train_options_take_their_defaults_from_trainconfig():
    import typer

    from lsctl.cli.app import app

    cmd = typer.main.get_command(app).commands["train"]
    fields = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    shared = [p for p in cmd.params if p.name in fields and p.name not in ("train", "output")]
    assert len(shared) > 30
    for p in shared:
        assert p.default == fields[p.name], p.name


def test_cli_train_writes_no_default_of_its_own():
    """No literal default for a TrainConfig field in cli/train.py: it reads them from _D."""
    tree = ast.parse((REPO / "lsctl" / "cli" / "train.py").read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "command")
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    args = fn.args.args + fn.args.kwonlyargs
    defaults = [None] * (len(fn.args.args) - len(fn.args.defaults))
    defaults += [*fn.args.defaults, *fn.args.kw_defaults]
    literal = [
        a.arg
        for a, d in zip(args, defaults, strict=True)
        if a.arg in fields and isinstance(d, ast.Constant)
    ]
    assert literal == [], f"defaults written in cli/train.py instead of TrainConfig: {literal}"
