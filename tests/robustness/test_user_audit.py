"""Paper cuts found by a new-user audit: each case is one designed error line, or the
option now does what its name says."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from robustkit import one_error, write_dataset

import lsctl
from lsctl.validation import ParameterError


@pytest.fixture
def data(tmp_path) -> str:
    return write_dataset(str(tmp_path / "d.parquet"))


@pytest.mark.parametrize(
    "args",
    [
        ["data", "split", "{data}", "-o", "{tmp}/sp"],
        ["data", "folds", "{data}", "-o", "{tmp}/fo"],
        ["data", "sample", "{data}", "-o", "{tmp}/s.parquet", "--cap", "neg=3"],
        ["softlabel", "{data}", "-m", "kwls", "--cross-fit", "3", "-o", "{tmp}/k.parquet"],
        ["noise", "{data}", "-k", "symmetric", "--rate", "0.2", "-o", "{tmp}/n.parquet"],
        ["train", "{data}", "-o", "{tmp}/run", "--model", "fasttext", "--epochs", "1"],
    ],
)
@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_a_seed_out_of_range_is_a_usage_error(cli, tmp_path, data, args, seed):
    args = [a.format(data=data, tmp=tmp_path) for a in args]
    one_error(cli(*args, "--seed", seed), 2, "--seed", "4294967295")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.parquet"]


@pytest.mark.parametrize("seed", [-1, 1.5, True, 2**32])
def test_the_api_refuses_bad_seeds_with_its_own_spelling(seed):
    y = ["a", "b"] * 10
    with pytest.raises(ParameterError, match=r"seed=.* must be a whole number"):
        lsctl.split(y, seed=seed)
    with pytest.raises(ParameterError, match=r"seed=.* must be a whole number"):
        lsctl.add_noise(y, kind="symmetric", rate=0.2, seed=seed)


def test_seeds_at_both_ends_of_the_range_work():
    y = ["a", "b"] * 10
    for seed in (0, 2**32 - 1, np.int64(5)):
        parts = lsctl.split(y, seed=seed)
        assert sum(len(v) for v in parts.values()) == 20


def test_negative_weight_decay_is_a_usage_error(cli, tmp_path, data):
    r = cli("train", data, "-o", tmp_path / "run", "--model", "fasttext", "--weight-decay", "-1")
    one_error(r, 2, "--weight-decay must be >= 0")
    assert not (tmp_path / "run").exists()


def test_fasttext_grad_clip_runs_from_the_command_line(cli, tmp_path, data):
    r = cli("train", data, "-o", tmp_path / "run", "--model", "fasttext", "--epochs", "1",
            "--grad-clip", "1", "-q")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "run" / "model.safetensors").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--dev", "{data}", "--dev-split", "0.3"], "--dev-split applies without --dev"),
        (["--loss", "ce", "--alpha", "5"], "--alpha applies to --loss aux"),
        (["--hidden", "5"], "--hidden applies to --model lstm"),
        (["--conv-padding", "full"], "--conv-padding applies to --model textcnn"),
    ],
)
def test_train_refuses_options_the_run_would_ignore(cli, tmp_path, data, extra, needle):
    extra = [a.format(data=data) for a in extra]
    r = cli("train", data, "-o", tmp_path / "run", "--model", "fasttext", "--epochs", "1", *extra)
    one_error(r, 2, needle)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "extra",
    [
        ["--embed-dim", "50"],
        ["--dropout", "0.1"],
        ["--embed-init", "uniform"],
        ["--tokenizer", "whitespace"],
        ["--vocab-size", "10"],
        ["--min-count", "2"],
        ["--max-norm", "3"],
        ["--freeze-embeddings"],
    ],
)
def test_train_refuses_scratch_model_options_for_an_hf_model(cli, tmp_path, data, extra):
    # Refused before any checkpoint is looked up: the path need not exist.
    r = cli("train", data, "-o", tmp_path / "run", "--model", "hf:no-such-model", *extra)
    one_error(r, 2, f"{extra[0]} applies to textcnn, lstm and fasttext")
    assert not (tmp_path / "run").exists()


def test_train_refuses_a_preset_for_an_hf_model(cli, tmp_path, data):
    r = cli("train", data, "-o", tmp_path / "run", "--model", "hf:x", "--preset", "kim2014")
    one_error(r, 2, "--preset kim2014 is a recipe for the models trained from scratch")


def test_hf_runs_stored_with_filled_in_scratch_options_still_resume():
    from lsctl.train.config import TrainConfig, resume_conflicts

    now = TrainConfig("t.parquet", "run", model="hf:m").resolved().to_dict()
    assert now["embed_dim"] is None and now["dropout"] is None
    old = dict(now, embed_dim=300, dropout=0.3)  # as runs before the check recorded them
    assert resume_conflicts(old, now) == []
    assert resume_conflicts(dict(old, lr=1.0), now) == ["lr"]


def test_train_output_cannot_be_stdout(cli, tmp_path, data, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_error(cli("train", data, "-o", "-", "--model", "fasttext"), 2, "a run is a directory")
    assert not (tmp_path / "-").exists()


def test_eval_refuses_no_rows_and_repeated_ids(cli, tmp_path, data):
    run = tmp_path / "run"
    r = cli("train", data, "-o", run, "--model", "fasttext", "--epochs", "1", "-q")
    assert r.exit_code == 0, r.stderr
    table = pq.read_table(data)
    empty = tmp_path / "empty.parquet"
    pq.write_table(table.slice(0, 0), empty)
    one_error(cli("eval", run, empty, "-o", tmp_path / "p.parquet"), 1, "no rows")
    ids = table.column("id").to_pylist()
    ids[1] = ids[0]
    dup = tmp_path / "dup.parquet"
    pq.write_table(table.set_column(table.column_names.index("id"), "id", pa.array(ids)), dup)
    one_error(cli("eval", run, dup, "-o", tmp_path / "p.parquet"), 1, "1 duplicate values")
    assert not (tmp_path / "p.parquet").exists()


@pytest.mark.parametrize(
    ("csv", "extra", "code", "needle"),
    [
        ("text,text,label\nhello,x,a\nworld,y,b\n", [], 1, "'text' appears 2 times"),
        ("text,label\nhello,a\nworld,\nfoo,b\n", [], 1, "1 row has an empty label"),
        ("text,label\nhello,a\nworld,  \nfoo,b\n", [], 1, "1 row has an empty label"),
        (
            "review,label\nhello,a\nworld,b\n",
            ["--text-col", "review", "--label-col", "review"],
            2,
            "both name 'review'",
        ),
    ],
)
def test_import_refuses_ambiguous_columns_and_empty_labels(cli, tmp_path, csv, extra, code, needle):
    src = tmp_path / "in.csv"
    src.write_text(csv)
    one_error(cli("data", "import", src, "-o", tmp_path / "o.parquet", *extra), code, needle)
    assert not (tmp_path / "o.parquet").exists()


def test_a_label_given_twice_is_refused(cli, tmp_path, data):
    r = cli(
        "data", "sample", data, "-o", tmp_path / "s.parquet", "--cap", "neg=5", "--cap", "neg=10"
    )
    one_error(r, 2, "--cap neg=… is given twice")


def test_keywords_top_must_not_be_negative(cli, tmp_path, data):
    r = cli("keywords", data, "--top", "-5")
    assert r.exit_code == 2 and "-5" in r.stderr


@pytest.mark.parametrize(
    ("pair", "needle"), [("neg:neg", "maps 'neg' to itself"), ("negpos", "no ':'")]
)
def test_pair_errors_name_labels(cli, tmp_path, data, pair, needle):
    r = cli("noise", data, "-k", "asymmetric", "--rate", "0.2", "--pair", pair,
            "-o", tmp_path / "n.parquet")  # fmt: skip
    one_error(r, 1, needle)


def test_paths_that_are_empty_files_or_directories_say_so(cli, tmp_path, data):
    empty = tmp_path / "e.parquet"
    empty.write_bytes(b"")
    one_error(cli("data", "info", empty), 1, "is empty (0 bytes)")
    (tmp_path / "adir").mkdir()
    one_error(cli("data", "import", data, "-o", tmp_path / "adir"), 1, "is a directory")
    r = cli(
        "noise", data, "-k", "matrix", "--matrix", tmp_path / "adir", "-o", tmp_path / "n.parquet"
    )
    one_error(r, 1, "is a directory")


def test_bracketed_help_text_survives_rich_rendering(cli, monkeypatch):
    """Rich drops what looks like a markup tag: '[yes for words, …]' used to vanish."""
    from lsctl.cli.app import COMMANDS, _load

    monkeypatch.setenv("COLUMNS", "400")  # one line per option: no wrapping inside a part
    checked = 0
    for name in COMMANDS:
        cmd = _load(name)
        subs = list(getattr(cmd, "commands", {}).items()) or [(None, cmd)]
        for sub, c in subs:
            shown = cli(*([name, sub] if sub else [name]), "--help").stdout
            for p in c.params:
                for part in re.findall(r"\[[a-z][^\[\]]*\]", (p.help or "").replace("\\[", "[")):
                    assert part in shown, (name, sub, part)
                    checked += 1
    assert checked >= 5  # --lowercase, --metric, --stopwords, … are among them


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-m", "uniform", "--rate", "0.3"], "--rate applies to --method nls, not uniform"),
        (["-m", "uniform", "--k1", "5"], "--k1 applies to --method kwls, not uniform"),
        (["-m", "distill", "--epsilon", "0.3"], "--epsilon applies to --method uniform"),
        (["-m", "uniform", "--no-lowercase"], "--lowercase applies to --method kwls, tfidf"),
    ],
)
def test_softlabel_refuses_another_methods_option(cli, tmp_path, data, args, needle):
    one_error(cli("softlabel", data, *args, "-o", tmp_path / "s.parquet"), 2, needle)
    assert not (tmp_path / "s.parquet").exists()


def test_softlabel_options_of_the_method_itself_still_apply(cli, tmp_path, data):
    for eps in ("0.1", "0.3"):
        r = cli(
            "softlabel", data, "-m", "uniform", "--epsilon", eps, "-o", tmp_path / f"{eps}.parquet"
        )
        assert r.exit_code == 0, r.stderr
    a, b = (
        pq.read_table(tmp_path / f"{e}.parquet")["soft_label"].to_pylist() for e in ("0.1", "0.3")
    )
    k = len(a[0])
    assert max(a[0]) == pytest.approx(1 - 0.1 + 0.1 / k) and max(b[0]) == pytest.approx(
        1 - 0.3 + 0.3 / k
    )


def test_argmax_agreement_does_not_credit_ties():
    from lsctl.smoothing.run import Summary

    s = Summary()
    d = np.array([[0.5, 0.5], [0.7, 0.3], [0.2, 0.8], [0.5, 0.5]])
    s.add(d, np.array([0, 0, 0, 1]))
    # Row 1 alone agrees; the tied rows agree with neither label, whichever comes first.
    assert s.result()["argmax_agreement"] == pytest.approx(1 / 4)


@pytest.mark.parametrize("method", [["uniform"], ["kwls"], ["nls", "--rate", "-0.2"]])
def test_softlabel_on_a_file_without_rows_says_so(cli, tmp_path, data, method):
    zero = tmp_path / "zero.parquet"
    pq.write_table(pq.read_table(data).slice(0, 0), zero)
    one_error(cli("softlabel", zero, "-m", *method, "-o", tmp_path / "z.parquet"), 1, "no rows")
    assert not (tmp_path / "z.parquet").exists()


def test_api_column_names_must_exist():
    df = pa.table({"text": ["a b", "b c", "c"], "label": ["x", "y", "x"]})
    for kw in ({"text": "nope"}, {"label": "nope"}):
        with pytest.raises(ParameterError, match=r"=\'nope\': the table has no such column"):
            lsctl.soft_labels(df, "kwls", **kw)
    with pytest.raises(ParameterError, match=r"text='text'"):
        lsctl.soft_labels(df.drop_columns(["text"]), "kwls")
    # A method that reads no text needs no text column.
    assert len(lsctl.soft_labels(df.drop_columns(["text"]), "uniform", epsilon=0.1)) == 3


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: lsctl.kwls(["x y", "y z", "z"], ["a", "b", "a"], cross_fit=5),
            r"^cross_fit=5 needs",
        ),
        (lambda: lsctl.kwls([1, 2], ["a", "b"]), r"texts\[0\] is int 1; texts are strings"),
        (lambda: lsctl.uniform(np.array([1.0, np.nan, 2.0])), r"labels\[1\] is missing"),
        (lambda: lsctl.uniform(["a", None, "b"]), r"labels\[1\] is missing"),
        (
            lambda: lsctl.add_noise(["a", "b"] * 5, kind="asymmetric", rate=0.2, pairs=["ab"]),
            r"pairs holds 'ab'",
        ),
    ],
)
def test_api_errors_name_python_parameters(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_api_pairs_take_tuples_or_the_command_lines_strings():
    y = ["a", "b", "c"] * 20
    kw = dict(kind="asymmetric", rate=0.4, seed=3)
    as_str = lsctl.add_noise(y, pairs=["a:b", "c:a"], **kw)
    as_tuple = lsctl.add_noise(y, pairs=[("a", "b"), ("c", "a")], **kw)
    assert list(as_str.labels) == list(as_tuple.labels)
    assert list(as_str.labels) != y


def test_given_labels_must_agree_with_the_argmax_column_when_metadata_is_gone(cli, tmp_path, data):
    soft = tmp_path / "k.parquet"
    assert cli("softlabel", data, "-m", "kwls", "-o", soft, "-q").exit_code == 0
    bare = tmp_path / "bare.parquet"  # as after a pandas round trip: no lsctl metadata
    pq.write_table(pq.read_table(soft).replace_schema_metadata(None), bare)
    common = ("--model", "fasttext", "--epochs", "1", "--loss", "aux", "-q")
    r = cli("train", bare, "-o", tmp_path / "bad", *common, "--labels", "pos,neu,neg")
    one_error(r, 1, "contradicts the order its soft_argmax column proves (neg,neu,pos)")
    assert not (tmp_path / "bad").exists()
    r = cli("train", bare, "-o", tmp_path / "good", *common, "--labels", "neg,neu,pos")
    assert r.exit_code == 0, r.stderr


def test_small_messages_say_what_is_wrong(cli, tmp_path, data):
    r = cli("keywords", data, "--min-count", "100000", "-o", tmp_path / "kw.parquet")
    assert r.exit_code == 0 and "the keywords table is empty" in r.stderr
    zero = tmp_path / "zero.parquet"
    pq.write_table(pq.read_table(data).slice(0, 0), zero)
    r = cli("noise", zero, "-k", "symmetric", "--rate", "0.2", "-o", tmp_path / "n.parquet")
    one_error(r, 1, "no rows")
    (tmp_path / "m.csv").write_text("")
    r = cli(
        "noise", data, "-k", "matrix", "--matrix", tmp_path / "m.csv", "-o", tmp_path / "n.parquet"
    )
    one_error(r, 1, "the matrix is empty, expected 3×3")
    r = cli("train", data, "-o", tmp_path / "r", "--embed-dim", "0")
    one_error(r, 2, "--embed-dim must be at least 1")


def test_kims_preset_on_another_model_takes_all_but_the_textcnn_padding(tmp_path):
    from lsctl.train.config import TrainConfig

    lstm = TrainConfig(train="t", output="o", model="lstm").with_preset("kim2014").resolved()
    assert (lstm.optimizer, lstm.max_norm, lstm.conv_padding) == ("adadelta", 3.0, "valid")
    cnn = TrainConfig(train="t", output="o", model="textcnn").with_preset("kim2014").resolved()
    assert cnn.conv_padding == "full"


def test_a_plot_path_that_is_a_directory_fails_before_any_output(cli, tmp_path, data):
    run = tmp_path / "run"
    assert (
        cli("train", data, "-o", run, "--model", "fasttext", "--epochs", "1", "-q").exit_code == 0
    )
    (tmp_path / "p.png").mkdir()
    r = cli("eval", run, data, "-o", tmp_path / "e.parquet", "--plot", tmp_path / "p.png")
    one_error(r, 1, "is a directory", "p.png/out.png")
    assert not (tmp_path / "e.parquet").exists()


def test_split_and_folds_refuse_to_leave_an_earlier_runs_parts_beside_theirs(cli, tmp_path, data):
    out = tmp_path / "sp"
    assert cli("data", "split", data, "-o", out, "--test", "0.2", "-q").exit_code == 0
    one_error(
        cli("data", "split", data, "-o", out, "--test", "0", "-q"), 1, "test.parquet: left from"
    )
    assert (
        cli("data", "split", data, "-o", out, "--test", "0.2", "--seed", "3", "-q").exit_code == 0
    )
    folds = tmp_path / "fo"
    assert cli("data", "folds", data, "-o", folds, "--folds", "4", "-q").exit_code == 0
    one_error(cli("data", "folds", data, "-o", folds, "--folds", "2", "-q"), 1, "fold3: left from")
    assert (
        cli("data", "folds", data, "-o", folds, "--folds", "4", "--seed", "1", "-q").exit_code == 0
    )


def test_compare_names_must_match_a_file_and_name_something(cli, tmp_path, data):
    run = tmp_path / "run"
    assert (
        cli("train", data, "-o", run, "--model", "fasttext", "--epochs", "1", "-q").exit_code == 0
    )
    for s in ("a", "b"):
        r = cli("eval", run, data, "-o", tmp_path / f"{s}.parquet", "--name", s, "-q")
        assert r.exit_code == 0, r.stderr
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    for name, needle in (("nomatch*=X", "matches none of the files"),
                         ("a.*=", "the system name is empty"),
                         ("a.*", "expects PATTERN=NAME")):  # fmt: skip
        one_error(cli("compare", *files, "--rounds", "20", "--name", name, "-q"), 2, needle)
    with pytest.raises(ParameterError, match="names is a dict"):
        lsctl.compare([str(f) for f in files], names=["x"], rounds=20)


@pytest.mark.parametrize("cap", [2.5, True, "3"])
def test_api_undersample_caps_are_whole_numbers(cap):
    with pytest.raises(ParameterError, match="the cap is a whole number"):
        lsctl.undersample(["a"] * 50 + ["b"] * 60, cap={"a": cap})


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["compare", "--nope"], "No such option: --nope"),
        (["compare", "a", "b", "--rounds", "abc"], "'abc' is not a valid int"),
        (["frob"], "No such command 'frob'"),
        (["train"], "Missing argument 'train'"),
    ],
)
def test_usage_errors_of_the_console_command_are_one_line(args, needle):
    """The entry point prints click's usage errors as one Error: line (typer drew a panel)."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "lsctl", *args], capture_output=True, text=True)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and needle in lines[0], r.stderr
    assert "-h')" in lines[0]


def test_api_errors_from_checks_shared_with_the_cli_name_keywords(tmp_path, data):
    with pytest.raises(ParameterError, match=r"^epochs must be at least 1$"):
        lsctl.train(data, str(tmp_path / "run"), epochs=0)
    with pytest.raises(ParameterError, match=r"^batch_size must be at least 1$"):
        lsctl.train(data, str(tmp_path / "run"), batch_size=0)
    with pytest.raises(ParameterError, match=r"tokenizer=.foo.; choose one of words, whitespace"):
        lsctl.keyword_stats(["a b"], ["x"], tokenizer="foo")
    assert not (tmp_path / "run").exists()


def test_compare_reads_stdin_once(cli, data):
    r = cli("compare", "-", "-", input=Path(data).read_bytes())
    one_error(r, 2, "'-' (stdin) is given more than once")


def test_api_evaluate_names_a_bad_device(tmp_path, data):
    with pytest.raises(ParameterError, match=r"^device='foo': choose auto, cpu or cuda"):
        lsctl.evaluate(str(tmp_path / "no-run"), data, device="foo")


def test_api_matrix_errors_speak_python(tmp_path, cli, data):
    with pytest.raises(
        lsctl.LsctlError, match=r"^matrix: row 1 \(b\) sums to 1.1.*stochastic='columns'"
    ):
        lsctl.add_noise(["a", "b"] * 5, kind="matrix", matrix=[[1, 0], [0.5, 0.6]])
    m = tmp_path / "m.csv"
    m.write_text("1,0,0\n0.5,0.6,0\n0,0,1\n")
    r = cli("noise", data, "-k", "matrix", "--matrix", m, "-o", tmp_path / "n.parquet")
    one_error(r, 1, "--matrix: row 1", "--stochastic columns")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lsctl.uniform(["a", "a"], convention="k-1"), "convention k-1 needs at least 2"),
        (
            lambda: lsctl.add_noise(["a", "b"], kind="asymmetric", rate=0.2, pairs=[("a", "a")]),
            "pairs 'a:a' maps 'a' to itself",
        ),
    ],
)
def test_api_core_errors_name_keywords_and_keep_their_type(call, message):
    # Raised by the core as LsctlError (exit 1 on the command line), not as usage errors.
    with pytest.raises(lsctl.LsctlError) as err:
        call()
    assert type(err.value) is lsctl.LsctlError
    assert str(err.value).startswith(message), str(err.value)
    assert "--" not in str(err.value)


def test_dir_of_the_package_lists_its_public_names():
    assert dir(lsctl) == sorted(lsctl.__all__)
    assert "importlib" not in dir(lsctl) and "soft_labels" in dir(lsctl)


def test_api_errors_name_the_table_argument_not_a_temporary_file(tmp_path):
    import pandas as pd

    with pytest.raises(lsctl.LsctlError) as err:
        lsctl.train(pd.DataFrame({"txt": ["a b", "c"], "label": ["a", "b"]}), str(tmp_path / "r"))
    assert str(err.value).startswith("data (a table): no column 'text'"), str(err.value)
    with pytest.raises(lsctl.LsctlError) as err:
        lsctl.compare([pd.DataFrame({"id": [1, 2], "label": ["a", "b"]})] * 2)
    assert str(err.value).startswith("preds[0] (a table): no column 'probs'"), str(err.value)
    assert "lsctl-api-" not in str(err.value)
    with pytest.raises(lsctl.LsctlError, match=r"^data \(a table\): 1 row has no label"):
        lsctl.train(pd.DataFrame({"text": ["a", "b"], "label": ["x", None]}), str(tmp_path / "r"))


@pytest.mark.parametrize(
    ("columns", "needle"),
    [
        ({"text": pa.array([[1], [2]]), "label": pa.array(["a", "b"])}, "column 'text' is list<"),
        ({"text": pa.array([b"x", b"y"]), "label": pa.array(["a", "b"])}, "column 'text' is binary"),
        ({"text": pa.array(["x", "y"]), "label": pa.array([{"n": "a"}, {"n": "b"}])}, "column 'label' is struct"),
    ],
)  # fmt: skip
@pytest.mark.parametrize(
    "command",
    [["data", "info"], ["noise", "-k", "symmetric", "-r", "0.1"], ["softlabel", "-m", "uniform"]],
)
def test_every_reader_refuses_nested_or_byte_columns_at_once(
    cli, tmp_path, columns, needle, command
):
    src = tmp_path / "bad.parquet"
    pq.write_table(pa.table(columns), src)
    out = tmp_path / "out.parquet"
    writes = [] if command[0] == "data" else ["-o", out]
    one_error(cli(*command, src, *writes), 1, needle)
    assert not out.exists()


def test_a_file_with_a_repeated_column_name_is_refused(cli, tmp_path):
    src = tmp_path / "dup.parquet"
    pq.write_table(
        pa.Table.from_arrays(
            [pa.array(["x"]), pa.array(["y"]), pa.array(["a"])], names=["text", "text", "label"]
        ),
        src,
    )
    for command, out in (
        (["data", "info"], []),
        (["data", "split"], ["-o", tmp_path / "sp"]),
        (["keywords"], ["-o", tmp_path / "kw.parquet"]),
    ):
        one_error(cli(*command, src, *out), 1, "the column name 'text' appears 2 times")


def test_splitting_no_rows_says_so(cli, tmp_path, data):
    empty = tmp_path / "empty.parquet"
    pq.write_table(pq.read_table(data).slice(0, 0), empty)
    one_error(cli("data", "split", empty, "-o", tmp_path / "sp"), 1, "no rows to split")
    assert not (tmp_path / "sp").exists()


@pytest.mark.parametrize("args", [[], ["data"], ["plot"]])
def test_a_group_alone_shows_its_help_without_an_empty_error_line(args):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "lsctl", *args], capture_output=True, text=True)
    assert "Usage:" in r.stdout + r.stderr
    assert "Error:" not in r.stderr, r.stderr
