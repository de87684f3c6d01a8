"""`lsctl data`: import, inspect, split and under-sample datasets."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from lsctl.cli.common import (
    JsonOpt,
    QuietOpt,
    SeedOpt,
    check_json_vs_stdout,
    emit_json,
    escape,
    handle_errors,
    info,
    parse_pairs,
    print_table,
    progress,
    warn,
)

app = typer.Typer(
    help="\b\n"
    "Examples:\n"
    "  lsctl data import reviews.csv -o reviews.parquet --text-col body --label-col stars\n"
    "  lsctl data info reviews.parquet\n"
    "  lsctl data split reviews.parquet -o splits/ --dev 0.1 --test 0.1 --seed 1\n"
    "  lsctl data sample splits/train.parquet -o imbalanced.parquet --ratio positive=0.1",
    no_args_is_help=True,
)

InputArg = Annotated[
    str, typer.Argument(help="Dataset artifact (Parquet/Arrow), or '-' for stdin.")
]
OutputOpt = Annotated[
    str, typer.Option("--output", "-o", help="Output dataset: .parquet, .arrows, or '-' (stdout).")
]


class Format(str, Enum):
    parquet = "parquet"
    arrows = "arrows"


def _flipped_to(to: dict[str, int], most: int = 3) -> str:
    """Where a clean class's flipped labels went, largest first: ``b 12, c 10, +2 more``."""
    if not to:
        return "—"
    ranked = sorted(to.items(), key=lambda kv: -kv[1])
    shown = ", ".join(f"{escape(label)} {n:,}" for label, n in ranked[:most])
    return shown + (f", +{len(ranked) - most} more" if len(ranked) > most else "")


def _where(path: str) -> str:
    return "stdin" if path == "-" else path


@app.command("import")
@handle_errors
def import_(
    src: Annotated[
        str,
        typer.Argument(
            help="CSV/TSV/JSONL/JSON/Parquet/Arrow file, '-', a saved HF datasets directory, "
            "hf:NAME[:CONFIG], or a built-in name (airline).",
            show_default=False,
        ),
    ],
    output: OutputOpt,
    text_col: Annotated[
        str | None, typer.Option("--text-col", help="Column holding the text (default: text).")
    ] = None,
    label_col: Annotated[
        str | None, typer.Option("--label-col", help="Column holding the label (default: label).")
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            "--split", help="HF sources only: which split (default: train, or the only one)."
        ),
    ] = None,
    encoding: Annotated[
        str, typer.Option("--encoding", help="Text encoding of CSV/TSV/JSON(L) files.")
    ] = "utf-8",
    drop_empty: Annotated[
        bool,
        typer.Option("--drop-empty", help="Drop rows with null or blank text (with a warning)."),
    ] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a dataset into lsctl's format: id, text and label (string) columns.

    An existing id column is kept; otherwise the row number becomes the id.
    Labels are ordered by name (HF ClassLabel sources keep their own order).
    A built-in name is used only when no file of that name exists.

    \b
    Examples:
      lsctl data import reviews.csv -o reviews.parquet --text-col review --label-col stars
      lsctl data import airline -o airline.parquet
      lsctl data import hf:glue:sst2 --split validation -o sst2-dev.parquet
      lsctl data import tweets.jsonl -o - | lsctl data info -
    """
    from lsctl.data.run import import_file

    check_json_vs_stdout(as_json, output)
    result = import_file(
        src,
        output,
        text_col=text_col,
        label_col=label_col,
        split=split,
        encoding=encoding,
        drop_empty=drop_empty,
        progress=progress(quiet, as_json),
    )
    for note in result.notes:
        warn(note)
    if result.dropped_empty:
        warn(f"dropped {result.dropped_empty:,} rows with null or empty text (--drop-empty)")

    summary = {
        "output": output,
        "rows": result.table.num_rows,
        "labels": result.labels,
        "dropped_empty": result.dropped_empty,
        "source": result.source,
    }
    if as_json:
        emit_json(summary)
    else:
        info(
            f"wrote {output if output != '-' else 'stdout'}: {result.table.num_rows:,} rows, "
            f"{len(result.labels)} classes ({', '.join(result.labels)})",
            quiet,
        )


@app.command("info")
@handle_errors
def info_(file: InputArg, as_json: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Show per-class counts and shares, text lengths, empty and duplicate texts.

    When the data has a clean_label column (written by `lsctl noise`), the
    realized noise rate and flips per class are shown too. Lengths are in
    characters and in word tokens (\\w+ runs, lsctl's default tokenizer).

    \b
    Examples:
      lsctl data info train.parquet
      lsctl data info train.parquet --quiet && echo readable   # check only
      lsctl data info train.parquet --json | jq .classes
      lsctl noise train.parquet -o - --kind symmetric -r 0.2 | lsctl data info -
    """
    from lsctl.artifacts import open_artifact, require_columns, resolve_labels
    from lsctl.data.info import dataset_info

    reader = open_artifact(file)
    where = _where(file)
    require_columns(reader.schema, ["label"], where)
    cols = [c for c in ("text", "label", "clean_label") if c in reader.schema.names]
    table = reader.read(cols)
    labels = resolve_labels(table, reader.meta, where)
    result = {"path": file, "kind": reader.kind, "format": reader.format}
    result.update(dataset_info(table, labels, where))
    if as_json:
        emit_json(result)
    elif not quiet:
        _render_info(result)


def _render_info(r: dict[str, Any]) -> None:
    from rich.table import Table

    noise = r.get("noise")
    title = f"{_where(r['path'])}: {r['rows']:,} rows, {len(r['labels'])} classes"
    if r.get("kind"):
        title += f" ({r['kind']})"
    info(f"[bold]{escape(title)}[/bold]")
    tab = Table()
    for col in ("label", "count", "share"):
        tab.add_column(col, justify="left" if col == "label" else "right")
    if noise:
        for col in ("clean count", "flipped", "flip rate"):
            tab.add_column(col, justify="right")
        tab.add_column("flipped to", justify="left")
    per_class = {c["label"]: c for c in noise["per_class"]} if noise else {}
    for c in r["classes"]:
        cells = [c["label"], f"{c['count']:,}", f"{c['share']:.2%}"]
        if noise:
            p = per_class[c["label"]]
            cells += [f"{p['clean_count']:,}", f"{p['flipped']:,}", f"{p['rate']:.2%}"]
            cells.append(_flipped_to(p["to"]))
        tab.add_row(*cells)
    print_table(tab)

    if r.get("length_chars"):
        lengths = Table(title="text length", title_justify="left")
        keys = list(r["length_chars"])
        lengths.add_column("unit")
        for k in keys:
            lengths.add_column(k, justify="right")
        for unit, key in (("chars", "length_chars"), ("tokens", "length_tokens")):
            lengths.add_row(
                unit, *(f"{r[key][k]:,.1f}" if k == "mean" else f"{r[key][k]:,.0f}" for k in keys)
            )
        print_table(lengths)
    if "empty_texts" in r:
        info(
            f"empty or null texts: {r['empty_texts']:,}   duplicate texts: "
            f"{r['duplicate_texts']:,}   texts with conflicting labels: "
            f"{r['conflicting_duplicates']:,}"
        )
    if r["missing_classes"]:
        warn(f"classes with no rows: {', '.join(r['missing_classes'])}")
    if noise:
        info(f"realized noise rate: {noise['rate']:.4f} ({noise['flipped']:,} labels flipped)")


@app.command("split")
@handle_errors
def split(
    file: InputArg,
    output_dir: Annotated[
        str,
        typer.Option(
            "--output", "-o", help="Directory for train/dev/test files (created if missing)."
        ),
    ],
    dev: Annotated[
        float, typer.Option("--dev", help="Share of each class for dev (0: no dev file).")
    ] = 0.1,
    test: Annotated[
        float, typer.Option("--test", help="Share of each class for test (0: no test file).")
    ] = 0.1,
    seed: SeedOpt = 0,
    fmt: Annotated[Format, typer.Option("--format", help="File format of the splits.")] = (
        Format.parquet
    ),
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Split a dataset into train/dev/test, stratified by label, seeded.

    Each class is split in the given shares (rounded per class, every class
    keeps at least one training row); rows keep their original order and ids.
    Writes OUTDIR/train.parquet, dev.parquet and test.parquet.

    \b
    Examples:
      lsctl data split data.parquet -o splits/ --dev 0.1 --test 0.1 --seed 1
      cat data.parquet | lsctl data split - -o splits/ --dev 0 --test 0.2
    """
    from lsctl.data.run import split_file

    result = split_file(file, output_dir, dev=dev, test=test, seed=seed, fmt=fmt.value)
    paths, rows, labels = result.paths, result.rows, result.labels
    if as_json:
        emit_json({"outputs": paths, "rows": rows, "labels": labels, "seed": seed})
    else:
        info(
            "wrote " + ", ".join(f"{paths[s]} ({n:,} rows)" for s, n in rows.items()),
            quiet,
        )


@app.command("folds")
@handle_errors
def folds(
    file: InputArg,
    output_dir: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="Directory for fold1/…/foldF/{train,heldout} (created if missing).",
        ),
    ],
    n_folds: Annotated[int, typer.Option("--folds", help="Number of folds F (at least 2).")] = 5,
    seed: SeedOpt = 0,
    fmt: Annotated[Format, typer.Option("--format", help="File format of the folds.")] = (
        Format.parquet
    ),
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Cut a dataset into F folds for out-of-fold predictions (a cross-fitted teacher).

    Fold i's heldout file holds its rows, its train file all the others. The
    assignment is the one `softlabel --cross-fit F --seed S` uses, so a teacher
    trained on foldI/train and run on foldI/heldout is out-of-fold on the same
    partition; pass the F prediction files to `softlabel --method distill
    --teacher A,B,…`.

    \b
    Example:
      lsctl data folds train.parquet -o folds/ --folds 5 --seed 0
    """
    from lsctl.data.run import folds_file

    result = folds_file(file, output_dir, folds=n_folds, seed=seed, fmt=fmt.value)
    if as_json:
        emit_json({"outputs": result.paths, "heldout_rows": result.heldout_rows, "seed": seed})
    else:
        info(
            f"wrote {n_folds} folds under {output_dir} (heldout rows {result.heldout_rows})", quiet
        )


@app.command("sample")
@handle_errors
def sample(
    file: InputArg,
    output: OutputOpt,
    ratio: Annotated[
        list[str] | None,
        typer.Option(
            "--ratio",
            help="LABEL=R: keep a share R in (0, 1] of that class (at least 1 row; '*=R': "
            "every class not named). Repeatable.",
        ),
    ] = None,
    cap: Annotated[
        list[str] | None,
        typer.Option(
            "--cap",
            help="LABEL=M: keep at most M rows of that class ('*=M': every class not named). "
            "Repeatable.",
        ),
    ] = None,
    seed: SeedOpt = 0,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Make classes rare: under-sample to a ratio of their size, or cap them (seeded).

    As in the KWLS paper §5.5–5.6: sample the training set only, and keep the
    test set balanced. Classes not named are kept whole; the label list is kept.

    \b
    Examples:
      lsctl data sample train.parquet -o imb.parquet --ratio neg=0.01 --seed 1
      lsctl data sample train.parquet -o few.parquet --cap pos=50 --cap neg=50
      lsctl data sample train.parquet -o small.parquet --cap '*=100' --seed 1
    """
    from lsctl.data.run import sample_file

    check_json_vs_stdout(as_json, output)
    ratios = parse_pairs(ratio or [], "--ratio", float)
    caps = parse_pairs(cap or [], "--cap", int)
    result = sample_file(file, output, ratio=ratios, cap=caps, seed=seed)
    labels, keep, before, after = result.labels, result.kept, result.before, result.after
    ratios, caps = result.ratios, result.caps  # with "*" spelled out per label
    where = _where(file)
    per_class = [
        {"label": lab, "before": int(b), "after": int(a)}
        for lab, b, a in zip(labels, before, after, strict=True)
    ]
    if as_json:
        emit_json({"output": output, "rows": int(keep.size), "classes": per_class, "seed": seed})
    elif not quiet:
        from rich.table import Table

        tab = Table(
            title=f"{where} → {output if output != '-' else 'stdout'}", title_justify="left"
        )
        for col in ("label", "before", "after", "limit"):
            tab.add_column(col, justify="left" if col in ("label", "limit") else "right")
        for c in per_class:
            lab = c["label"]
            limit = []
            if lab in ratios:
                limit.append(f"ratio {ratios[lab]:g}")
            if lab in caps:
                limit.append(f"cap {caps[lab]:,}")
            tab.add_row(lab, f"{c['before']:,}", f"{c['after']:,}", ", ".join(limit) or "-")
        print_table(tab)
