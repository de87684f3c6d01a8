"""One rule per condition across commands (issue 13, item 8).

A bad choice for an option is a usage error: exit 2 and one `Error:` line,
whichever command and whichever layer (CLI or core) notices it.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from lsctl.artifacts import make_meta, write_artifact


@pytest.fixture
def data(tmp_path):
    texts = [f"word{i % 7} other{i % 3} thing" for i in range(40)]
    labels = ["a", "b"] * 20
    path = tmp_path / "data.parquet"
    write_artifact(
        pa.table({"text": texts, "label": labels}), str(path), make_meta("dataset", ["a", "b"])
    )
    return path


BAD_CHOICES = [
    ("softlabel {data} --method nope", "--method"),
    ("softlabel {data} --method uniform --convention nope", "--convention"),
    ("softlabel {data} --method kwls --tokenizer nope", "--tokenizer"),
    ("softlabel {data} --method kwls --stopwords {tmp}/missing.txt", "--stopwords"),
    ("keywords {data} --tokenizer nope", "--tokenizer"),
    (
        "noise {data} -o {tmp}/n.parquet --kind symmetric --rate 0.2 --convention nope",
        "--convention",
    ),
    ("data import {csv} -o {tmp}/i.parquet --encoding nope", "--encoding"),
    ("train {data} -o {tmp}/run --loss nope", "--loss"),
    ("train {data} -o {tmp}/run --model nope", "--model"),
    ("eval {tmp}/run {data} --device tpu", "--device"),
    ("compare {data} {data} --metric nope", "--metric"),
    ("compare {data} {data} --mcnemar nope", "--mcnemar"),
]


@pytest.mark.parametrize(("command", "option"), BAD_CHOICES, ids=[c for c, _ in BAD_CHOICES])
def test_a_bad_choice_is_a_usage_error(cli, tmp_path, data, command, option):
    csv = tmp_path / "d.csv"
    csv.write_text("text,label\nhello,a\nworld,b\n")
    args = command.format(data=data, tmp=tmp_path, csv=csv).split()
    r = cli(*args)
    assert r.exit_code == 2, r.stderr
    assert option in r.stderr and "Traceback" not in r.stderr
    if "Usage:" not in r.stderr:  # not rejected by the option parser: lsctl's own one line
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error:"), r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "data.parquet"]


def test_data_info_quiet_checks_without_printing(cli, tmp_path, data):
    r = cli("data", "info", data, "--quiet")
    assert r.exit_code == 0 and r.stdout == "" and r.stderr == ""
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    r = cli("data", "info", bad, "-q")
    assert r.exit_code == 1 and r.stderr.startswith("Error:")
    r = cli("data", "info", data, "--quiet", "--json")  # --json still prints its object
    assert r.exit_code == 0 and '"rows": 40' in r.stdout


@pytest.mark.parametrize("group", [[], ["data"]])
def test_group_help_has_runnable_examples(cli, group):
    r = cli(*group, "--help")
    assert r.exit_code == 0
    text = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout)
    assert "Examples:" in text
    examples = [line.strip() for line in text.split("Examples:")[1].splitlines()]
    examples = [line for line in examples if line.startswith("lsctl ")]
    assert len(examples) >= 4
    for line in examples:
        words = line.split()[1:]
        # The example names a real command: its --help works.
        path = words[:2] if words[0] == "data" else words[:1]
        assert cli(*path, "--help").exit_code == 0, line
