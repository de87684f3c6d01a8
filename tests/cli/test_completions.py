"""completions/ is current, and the generated scripts really complete lsctl's commands."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

COMPLETIONS = REPO / "completions"
BIN = Path(sys.executable).parent


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # The shims call `lsctl` by name, as they would in a user's shell.
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def _app_tree():
    import typer

    from lsctl.cli.app import app

    return typer.main.get_command(app)


def test_completion_files_are_current():
    res = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_completions.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr


def test_completion_files_exist_for_each_shell():
    assert (COMPLETIONS / "_lsctl").read_text().startswith("#compdef lsctl\n")
    for name in ("lsctl.bash", "_lsctl", "lsctl.fish"):
        assert "_LSCTL_COMPLETE=complete_" in (COMPLETIONS / name).read_text(), name


def _bash_complete(words: list[str]) -> list[str]:
    """Source the generated bash script and run its completion function, as bash would on TAB."""
    script = (
        f"source {COMPLETIONS / 'lsctl.bash'}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_lsctl_completion lsctl\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    res = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    return [line for line in res.stdout.splitlines() if line]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_script_completes_every_command_from_a_prefix():
    group = _app_tree()
    names = sorted(group.commands)
    assert {"data", "noise", "train", "eval", "compare"} <= set(names)
    for name in names:
        offered = _bash_complete(["lsctl", name[:2]])
        assert name in offered, (name, offered)
        # Nothing that doesn't start with the prefix.
        assert all(o.startswith(name[:2]) for o in offered), offered


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_script_completes_options_and_choices():
    group = _app_tree()
    cmd = group.commands["noise"]
    kind = next(p for p in cmd.params if "--kind" in p.opts)
    assert "--kind" in _bash_complete(["lsctl", "noise", "--ki"])
    # Choice values come from the option's own enum, not a list written here.
    choices = set(kind.type.choices)
    assert len(choices) >= 2
    assert set(_bash_complete(["lsctl", "noise", "--kind", ""])) == choices


def _callback(shell: str, line: str) -> str:
    """Call lsctl back exactly as the zsh/fish shims do (shell binaries may be absent)."""
    extra = {"_LSCTL_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": line}
    if shell == "fish":
        extra["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    res = subprocess.run(
        [str(BIN / "lsctl")], capture_output=True, text=True, env=_env(**extra), timeout=60
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_protocol_offers_subcommands(shell):
    text = (COMPLETIONS / ("_lsctl" if shell == "zsh" else "lsctl.fish")).read_text()
    # The env variables the callback reads are the ones the shipped script sets.
    assert f"_LSCTL_COMPLETE=complete_{shell}" in text
    assert "_TYPER_COMPLETE_ARGS=" in text
    out = _callback(shell, "lsctl da")
    assert re.search(r"\bdata\b", out), out
    assert "noise" not in out


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_softlabel_choices_from_the_registries():
    from lsctl.smoothing import registry
    from lsctl.text.tokenize import TOKENIZERS

    assert _bash_complete(["lsctl", "softlabel", "--method", ""]) == registry.names()
    assert _bash_complete(["lsctl", "softlabel", "-m", "t"]) == ["tfidf"]
    assert _bash_complete(["lsctl", "softlabel", "--tokenizer", ""]) == list(TOKENIZERS)
    assert _bash_complete(["lsctl", "softlabel", "--convention", "k"]) == ["k", "k-1"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_the_keywords_tokenizer():
    assert _bash_complete(["lsctl", "keywords", "--tokenizer", "wh"]) == ["whitespace"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_compare_metrics_from_both_metric_lists():
    from lsctl.retrieval.rank import METRICS as RANKED
    from lsctl.stats.bootstrap import METRICS

    assert _bash_complete(["lsctl", "compare", "--metric", ""]) == [*METRICS, *RANKED]
    assert _bash_complete(["lsctl", "compare", "--metric", "recall@1"]) == [
        "recall@1",
        "recall@10",
        "recall@100",
    ]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_train_model_and_loss_from_the_config_lists():
    from lsctl.train.config import LOSSES, MODELS

    assert _bash_complete(["lsctl", "train", "--loss", ""]) == list(LOSSES)
    assert _bash_complete(["lsctl", "train", "--model", ""]) == [*MODELS, "hf:minilm"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_the_remaining_choice_options_from_their_declarations():
    from lsctl.evaluate.curves import BANDS
    from lsctl.retrieval.data import POOLS
    from lsctl.stats import MCNEMAR_TESTS
    from lsctl.train.config import DEVICES

    assert _bash_complete(["lsctl", "compare", "--mcnemar", ""]) == list(MCNEMAR_TESTS)
    for cmd in (["train"], ["eval"], ["retrieve", "train"], ["retrieve", "predict"]):
        assert _bash_complete(["lsctl", *cmd, "--device", ""]) == list(DEVICES), cmd
    assert _bash_complete(["lsctl", "retrieve", "bm25", "--pool", ""]) == list(POOLS)
    assert _bash_complete(["lsctl", "plot", "curves", "--band", ""]) == list(BANDS)
