"""`lsctl --help` (and every subcommand's) must not import the heavy libraries.

The commands are discovered from the app itself, so commands added later are
covered without editing this test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from conftest import REPO

HEAVY = ("torch", "transformers", "sklearn", "scipy", "datasets", "matplotlib")

PROBE = r"""
import contextlib, io, json, sys
from typer.main import get_command
from lsctl.cli.app import app

paths = []
def walk(cmd, path):
    paths.append(path)
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        walk(sub, path + [name])
walk(get_command(app), [])

codes = {}
for path in paths:
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            app(path + ["--help"], prog_name="lsctl")
        codes[" ".join(path)] = 0
    except SystemExit as e:
        codes[" ".join(path)] = e.code or 0
    if "Usage" not in buf.getvalue():
        codes[" ".join(path)] = "no help text: " + buf.getvalue()[-300:]
heavy = sorted(m for m in HEAVY if m in sys.modules)
print(json.dumps({"codes": codes, "heavy": heavy}))
"""


def _probe() -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120"}
    code = f"HEAVY = {HEAVY!r}\n" + PROBE
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_help_of_every_command_imports_no_heavy_library():
    out = _probe()
    codes = out["codes"]
    # The root, the data group and its commands at least; others as they are added.
    for expected in ("", "data", "data import", "data info", "data split", "data sample"):
        assert expected in codes, sorted(codes)
    assert {k: v for k, v in codes.items() if v != 0} == {}
    assert out["heavy"] == [], f"--help imported {out['heavy']}"


def test_every_command_has_an_example_in_its_help():
    from typer.main import get_command

    from lsctl.cli.app import app

    missing = []

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
        elif "lsctl " not in (cmd.help or ""):
            missing.append(" ".join(path))

    walk(get_command(app), [])
    assert missing == [], f"help without an example invocation: {missing}"


def test_python_m_lsctl_version():
    from lsctl import __version__

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [sys.executable, "-m", "lsctl", "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"lsctl {__version__}"


def test_import_lsctl_and_its_api_names_import_no_heavy_library():
    """``import lsctl`` and looking up the API functions stay light; torch loads on use."""
    code = (
        "import sys, json, lsctl\n"
        "names = [n for n in lsctl.__all__ if n != 'losses']\n"
        "objs = [getattr(lsctl, n) for n in names]\n"
        "assert callable(lsctl.train) and callable(lsctl.evaluate)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == []


def _run_cli(
    args: list[str], prefixes: tuple[str, ...], **env_extra: str
) -> tuple[set[str], str, str]:
    """Run ``lsctl ARGS`` in a fresh interpreter; returns (loaded modules starting with
    one of ``prefixes``, stderr, stdout). Colour variables are unset unless given."""
    code = (
        "import json, sys\n"
        "from lsctl.cli.app import app\n"
        "try:\n"
        f"    app({args!r}, prog_name='lsctl')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), **env_extra}
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR"):
        if var not in env_extra:
            env.pop(var, None)
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0, r.stderr
    *output, loaded = r.stdout.strip().splitlines()
    return set(json.loads(loaded)), r.stderr, "\n".join(output)


def test_a_command_imports_only_its_own_cli_module_and_a_quiet_run_no_rich(tmp_path):
    """`lsctl noise …` builds only the noise command; a quiet run that succeeds never loads rich."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lsctl.cli.app import COMMANDS

    src = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["a b", "c d"] * 5, "label": ["x", "y"] * 5}), src)
    args = ["noise", str(src), "-o", str(tmp_path / "n.parquet"), "-k", "symmetric", "-r", "0.2"]
    loaded, _, _ = _run_cli([*args, "-q"], ("lsctl.cli.", "rich"))
    assert (tmp_path / "n.parquet").exists()
    others = {f"lsctl.cli.{name}" for name in COMMANDS if name != "noise"}
    assert loaded & others == set()
    assert "lsctl.cli.noise" in loaded
    assert not any(m == "rich" or m.startswith("rich.") for m in loaded), sorted(loaded)


def _softlabel_with_warning(tmp_path, **env_extra: str) -> tuple[set[str], str]:
    """A quiet softlabel run on data whose targets are flat: its only output is a warning."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "flat.parquet"
    # Every word occurs under both labels equally: KWLS targets are exactly uniform.
    pq.write_table(pa.table({"text": ["a b"] * 8, "label": ["x", "y"] * 4}), src)
    args = ["softlabel", str(src), "-o", str(tmp_path / "s.parquet"), "-q"]
    loaded, err, _ = _run_cli(args, ("rich",), **env_extra)
    return loaded, err


def test_a_warning_to_a_pipe_is_one_plain_line_without_rich(tmp_path):
    loaded, err = _softlabel_with_warning(tmp_path)
    assert loaded == set()
    assert err.startswith("Warning: the kwls soft labels are nearly uniform")
    assert err.count("\n") == 1 and "\x1b[" not in err
    # Forced colour goes through rich, with the same words.
    loaded, colored = _softlabel_with_warning(tmp_path, FORCE_COLOR="1")
    assert "rich.console" in loaded
    assert "\x1b[" in colored
    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == err


def test_root_help_lists_every_summary_without_building_a_command():
    """`lsctl --help` shows each command's summary from the registry alone: no
    command module, numpy or pyarrow is imported, and each summary is the first
    paragraph of that command's own --help."""
    from typer.main import get_command

    from lsctl.cli.app import COMMANDS, app

    loaded, _, help_text = _run_cli(
        ["--help"], ("lsctl.cli.", "numpy", "pyarrow"), COLUMNS="200", TERM="dumb"
    )
    assert loaded <= {"lsctl.cli.app", "lsctl.cli.common"}, sorted(loaded)
    listing = [line.strip("│ ").split(None, 1) for line in help_text.splitlines()]
    listed = {row[0]: row[1].strip() for row in listing if len(row) == 2 and row[0] in COMMANDS}
    assert list(listed) == list(COMMANDS)
    root = get_command(app)
    for name, summary in COMMANDS.items():
        assert listed[name] == summary
        assert root.commands[name].help.split("\n\n")[0] == summary
