"""`lsctl train`: TextCNN, BiLSTM or a transformers model with soft-label losses."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from lsctl.cli.common import (
    JsonOpt,
    QuietOpt,
    SeedOpt,
    completer,
    emit_json,
    handle_errors,
    info,
    progress,
    warn,
)
from lsctl.text.tokenize import TOKENIZERS
from lsctl.train.config import DEVICES, LOSSES, MODELS, TrainConfig

# TrainConfig is the one source of every default below.
_D = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
_T = "Training"
_M = "Model"
_L = "Loss"
_R = "Run"


@handle_errors
def command(
    ctx: typer.Context,
    train: Annotated[
        str, typer.Argument(help="Dataset or softlabels artifact (text, label[, soft_label]).")
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Run directory to create (or continue).")
    ],
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="textcnn, lstm, fasttext, or hf:PATH_OR_NAME (hf:minilm = MiniLM-L6).",
            rich_help_panel=_M,
            autocompletion=completer([*MODELS, "hf:minilm"]),
        ),
    ] = _D["model"],
    loss: Annotated[
        str,
        typer.Option(
            "--loss",
            "-l",
            help="ce, soft, aux (KWLS eq. 9), aux-head or ols (Online Label Smoothing).",
            rich_help_panel=_L,
            autocompletion=completer(LOSSES),
        ),
    ] = _D["loss"],
    dev: Annotated[
        str | None,
        typer.Option("--dev", help="Dev artifact for early stopping and model selection."),
    ] = _D["dev"],
    dev_split: Annotated[
        float, typer.Option("--dev-split", help="Without --dev: stratified share of TRAIN.")
    ] = _D["dev_split"],
    epochs: Annotated[int, typer.Option("--epochs", rich_help_panel=_T)] = _D["epochs"],
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size",
            help="Global batch (split over processes). Default 64; fasttext: 16.",
            rich_help_panel=_T,
        ),
    ] = _D["batch_size"],
    eval_batch_size: Annotated[
        int | None,
        typer.Option(
            "--eval-batch-size",
            help="Batch for scoring the dev set each epoch (512; hf: 128).",
            rich_help_panel=_T,
        ),
    ] = _D["eval_batch_size"],
    lr: Annotated[
        float | None,
        typer.Option(
            "--lr",
            help="Default 1e-3 (textcnn/lstm), 2 (fasttext, sgd), 1.0 (adadelta), 2e-5 (hf:).",
            rich_help_panel=_T,
        ),
    ] = _D["lr"],
    optimizer: Annotated[
        str | None,
        typer.Option(
            "--optimizer",
            help="adamw, sgd (momentum 0.9; fasttext: plain SGD, on sparse rows unless "
            "--weight-decay > 0) or adadelta. "
            "Default adamw; fasttext: sgd.",
            rich_help_panel=_T,
        ),
    ] = _D["optimizer"],
    weight_decay: Annotated[
        float | None,
        typer.Option("--weight-decay", help="Default 0.01; fasttext: 0.", rich_help_panel=_T),
    ] = _D["weight_decay"],
    scheduler: Annotated[
        str, typer.Option("--scheduler", help="linear or constant.", rich_help_panel=_T)
    ] = _D["scheduler"],
    warmup_ratio: Annotated[
        float,
        typer.Option("--warmup-ratio", help="Share of steps for LR warm-up.", rich_help_panel=_T),
    ] = _D["warmup_ratio"],
    max_length: Annotated[
        int | None,
        typer.Option(
            "--max-length",
            help="Tokens kept per text (256; fasttext: 1000; hf: 128).",
            rich_help_panel=_T,
        ),
    ] = _D["max_length"],
    grad_clip: Annotated[
        float, typer.Option("--grad-clip", help="Max grad norm; 0 = off.", rich_help_panel=_T)
    ] = _D["grad_clip"],
    seed: SeedOpt = _D["seed"],
    device: Annotated[
        str,
        typer.Option(
            "--device",
            help="auto, cpu or cuda.",
            rich_help_panel=_T,
            autocompletion=completer(DEVICES),
        ),
    ] = _D["device"],
    precision: Annotated[
        str,
        typer.Option("--precision", help="fp32 or bf16 (autocast on CUDA).", rich_help_panel=_T),
    ] = _D["precision"],
    patience: Annotated[
        int,
        typer.Option(
            "--patience", help="Stop after N epochs without dev gain; 0 = off.", rich_help_panel=_T
        ),
    ] = _D["patience"],
    threads: Annotated[
        int | None, typer.Option("--threads", help="torch CPU threads.", rich_help_panel=_T)
    ] = _D["threads"],
    alpha: Annotated[
        float | None,
        typer.Option(
            "--alpha",
            help="aux/aux-head: weight of the MSE term (default 1). ols: weight of the hard-label "
            "CE, in [0, 1] (default 0.5).",
            rich_help_panel=_L,
        ),
    ] = _D["alpha"],
    warmup_epochs: Annotated[
        int,
        typer.Option(
            "--warmup-epochs",
            help="Train with ce for N epochs first (NLS); they are never selected.",
            rich_help_panel=_L,
        ),
    ] = _D["warmup_epochs"],
    label_smoothing: Annotated[
        float | None,
        typer.Option(
            "--label-smoothing",
            help="Uniform targets ε made in-process (k convention); negative = NLS. "
            "ols: the rate of S_0 (default 0.1).",
            rich_help_panel=_L,
        ),
    ] = _D["label_smoothing"],
    vocab_size: Annotated[int, typer.Option("--vocab-size", rich_help_panel=_M)] = _D["vocab_size"],
    min_count: Annotated[int, typer.Option("--min-count", rich_help_panel=_M)] = _D["min_count"],
    tokenizer: Annotated[
        str,
        typer.Option(
            "--tokenizer",
            help="words or whitespace (textcnn, lstm, fasttext).",
            rich_help_panel=_M,
            autocompletion=completer(TOKENIZERS),
        ),
    ] = _D["tokenizer"],
    embed_dim: Annotated[
        int | None,
        typer.Option("--embed-dim", help="Default 300; fasttext: 10.", rich_help_panel=_M),
    ] = _D["embed_dim"],
    ngrams: Annotated[
        int,
        typer.Option(
            "--ngrams", help="fasttext: 1 = words, 2 = words + hashed bigrams.", rich_help_panel=_M
        ),
    ] = _D["ngrams"],
    buckets: Annotated[
        int,
        typer.Option(
            "--buckets", help="fasttext: rows of the bigram hash table.", rich_help_panel=_M
        ),
    ] = _D["buckets"],
    hidden: Annotated[
        int, typer.Option("--hidden", help="LSTM hidden size per direction.", rich_help_panel=_M)
    ] = _D["hidden"],
    dropout: Annotated[
        float | None,
        typer.Option("--dropout", help="0.5 textcnn, 0.3 lstm, 0 fasttext.", rich_help_panel=_M),
    ] = _D["dropout"],
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            help="Recipe whose values replace the defaults of options not given: kim2014 "
            "(see docs/train.md).",
            rich_help_panel=_T,
        ),
    ] = _D["preset"],
    max_norm: Annotated[
        float,
        typer.Option(
            "--max-norm",
            help="Cap each output-weight row's L2 norm after every step (Kim: 3); 0 = off.",
            rich_help_panel=_T,
        ),
    ] = _D["max_norm"],
    embed_init: Annotated[
        str,
        typer.Option(
            "--embed-init",
            help="normal (N(0,1); fasttext: its own U[-1/d,1/d]) or uniform "
            "(U[-0.25,0.25], Kim; fasttext: words and bigrams).",
            rich_help_panel=_M,
        ),
    ] = _D["embed_init"],
    conv_padding: Annotated[
        str,
        typer.Option(
            "--conv-padding",
            help="textcnn: valid, or full (k-1 zero pads on both sides, Kim).",
            rich_help_panel=_M,
        ),
    ] = _D["conv_padding"],
    embeddings: Annotated[
        str | None,
        typer.Option(
            "--embeddings",
            help="Pretrained vectors for the vocabulary: word2vec binary or GloVe/word2vec "
            "text; missing words U[-0.25,0.25].",
            rich_help_panel=_M,
        ),
    ] = _D["embeddings"],
    freeze_embeddings: Annotated[
        bool,
        typer.Option(
            "--freeze-embeddings",
            help="Keep the --embeddings vectors fixed (Kim's CNN-static).",
            rich_help_panel=_M,
        ),
    ] = _D["freeze_embeddings"],
    drop_empty: Annotated[
        bool,
        typer.Option(
            "--drop-empty",
            help="Drop TRAIN/DEV rows with null or blank text (with a warning).",
        ),
    ] = _D["drop_empty"],
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Neither read nor write the tokenized-data cache (TextCNN, LSTM, fastText; "
            "$LSCTL_CACHE_DIR, default ~/.cache/lsctl, bounded by $LSCTL_CACHE_MAX_MB).",
            rich_help_panel=_R,
        ),
    ] = False,
    labels: Annotated[
        str | None,
        typer.Option(
            "--labels",
            help="Label order A,B,… of TRAIN's soft_label entries, for a file whose lsctl "
            "metadata is gone (e.g. rewritten by pandas).",
        ),
    ] = _D["labels"],
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue RUN from its checkpoint.", rich_help_panel=_R),
    ] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Example:

        lsctl train trec-train.parquet -o runs/cnn --model textcnn --loss ce --epochs 10

        lsctl train kwls.parquet -o runs/kwls --loss aux --alpha 1 --dev dev.parquet

    Data-parallel: torchrun --nproc_per_node=2 -m lsctl train … (see docs/train.md).
    """
    from lsctl.artifacts.columns import parse_labels
    from lsctl.train.config import TrainConfig

    config = TrainConfig(
        train=train,
        output=output,
        model=model,
        loss=loss,
        dev=dev,
        dev_split=dev_split,
        epochs=epochs,
        batch_size=batch_size,
        eval_batch_size=eval_batch_size,
        lr=lr,
        optimizer=optimizer,
        weight_decay=weight_decay,
        scheduler=scheduler,
        warmup_ratio=warmup_ratio,
        max_length=max_length,
        grad_clip=grad_clip,
        seed=seed,
        device=device,
        precision=precision,
        patience=patience,
        alpha=alpha,
        warmup_epochs=warmup_epochs,
        label_smoothing=label_smoothing,
        vocab_size=vocab_size,
        min_count=min_count,
        tokenizer=tokenizer,
        embed_dim=embed_dim,
        ngrams=ngrams,
        buckets=buckets,
        hidden=hidden,
        dropout=dropout,
        threads=threads,
        drop_empty=drop_empty,
        cache=not no_cache,
        max_norm=max_norm,
        embed_init=embed_init,
        conv_padding=conv_padding,
        embeddings=embeddings,
        freeze_embeddings=freeze_embeddings,
        labels=parse_labels(labels),
    ).with_preset(preset, keep=_given_options(ctx))
    config = config.resolved()  # option errors before torch is imported

    from lsctl.train import dist
    from lsctl.train.device import auto_device
    from lsctl.train.loop import train as run_training

    dist.init_from_env(device if device != "auto" else auto_device())
    main = dist.rank() == 0
    show = quiet or as_json or not main
    result = run_training(
        config,
        progress=progress(show, as_json),
        notify=(lambda msg: info(msg, quiet=show)),
        resume=resume,
        warn=warn,
    )
    summary = result.summary()
    if result.stopped == "early-stopped":
        info(f"early stop after epoch {summary['epochs_run']} (--patience {patience})", quiet=show)
    if main:
        if as_json:
            emit_json(summary)
        elif not quiet:
            acc = summary["best_dev_accuracy"]
            after = f" (after {warmup_epochs} CE warm-up epochs)" if warmup_epochs else ""
            info(
                f"[green]done[/green]: best dev accuracy {acc:.4f} at epoch "
                f"{summary['best_epoch']}{after}; run in {output}"
            )


def _given_options(ctx: typer.Context) -> set[str]:
    """Parameters typed on the command line: they win over a preset's values."""
    default = ("DEFAULT", "DEFAULT_MAP")
    given = set()
    for name in ctx.params:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name not in default:
            given.add(name)
    return given
