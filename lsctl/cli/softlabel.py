"""`lsctl softlabel`: soft-label targets (uniform, nls, kwls, tfidf, distill)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lsctl.cli.common import (
    JsonOpt,
    QuietOpt,
    check_json_vs_stdout,
    completer,
    console,
    emit_json,
    flag_name,
    handle_errors,
    progress,
    warn,
)
from lsctl.params import Param

if TYPE_CHECKING:
    from lsctl.smoothing.run import SoftlabelResult

# Options of the command itself; each method's own come from its declaration.
_FIXED = ("data", "output", "method", "show", "quiet", "as_json")


def method_options() -> list[tuple[Param, list[str]]]:
    """Every registered method's parameters, once each, with the methods that take them.

    Methods may share a parameter (kwls and tfidf share the tokenizer); a
    shared name must be declared identically, or the command could not say
    what it means.
    """
    from lsctl.smoothing import registry

    seen: dict[str, tuple[Param, list[str]]] = {}
    for name, cls in registry.methods().items():
        for p in cls.options:
            if p.name in _FIXED:
                raise RuntimeError(f"method {name!r}: parameter {p.name!r} is a softlabel option")
            if p.name not in seen:
                seen[p.name] = (p, [name])
            elif seen[p.name][0] != p:
                raise RuntimeError(
                    f"parameter {p.name!r} is declared differently by methods "
                    f"{', '.join(seen[p.name][1])} and {name}"
                )
            else:
                seen[p.name][1].append(name)
    return list(seen.values())


def _option(p: Param, owners: list[str]) -> inspect.Parameter:
    typ: Any = str if p.labels else p.type
    if p.default is None:
        typ = typ | None
    decl = [p.flag or "--" + p.name.replace("_", "-")]
    text = p.help[:1].lower() + p.help[1:] if p.help else ""
    extra: dict[str, Any] = {}
    if p.choices is not None:
        extra = {"autocompletion": completer(p.choices), "metavar": "|".join(p.choices)}
    opt = typer.Option(*decl, help=f"{'/'.join(owners)}: {text}", **extra)
    return inspect.Parameter(
        p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default, annotation=Annotated[typ, opt]
    )


def build_command() -> Callable[..., None]:
    """The ``softlabel`` command, with one option per declared method parameter.

    Built from the registry when the CLI is assembled, so a new method's
    parameters become options, with their help, choices and completion,
    without editing this module.
    """
    from lsctl.smoothing import registry

    declared = method_options()
    names = registry.names()
    fixed = [
        inspect.Parameter(
            "data",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[
                str, typer.Argument(help="Dataset artifact (Parquet/Arrow, '-' for stdin).")
            ],
        ),
        inspect.Parameter(
            "output",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                str | None,
                typer.Option(
                    "--output",
                    "-o",
                    help="Write DATA + soft_label here ('-' for stdout). Omit to inspect.",
                ),
            ],
        ),
        inspect.Parameter(
            "method",
            inspect.Parameter.KEYWORD_ONLY,
            default="kwls",
            annotation=Annotated[
                str,
                typer.Option(
                    "--method",
                    "-m",
                    help="The soft-label method.",
                    metavar="|".join(names),
                    autocompletion=completer(names),
                ),
            ],
        ),
    ]
    tail = [
        inspect.Parameter(
            "show",
            inspect.Parameter.KEYWORD_ONLY,
            default=0,
            annotation=Annotated[
                int,
                typer.Option(
                    help="Print N examples with their soft labels, spread over the gold labels."
                ),
            ],
        ),
        inspect.Parameter(
            "quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=QuietOpt
        ),
        inspect.Parameter(
            "as_json", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=JsonOpt
        ),
    ]
    params = [*fixed, *(_option(p, owners) for p, owners in declared), *tail]

    def command(data: str, **kwargs: Any) -> None:
        run(data, declared, **kwargs)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = _DOC
    return handle_errors(command)


_DOC = """Example: lsctl softlabel train.parquet --method kwls -o train.soft.parquet --show 3
    """


def run(
    data: str,
    declared: list[tuple[Param, list[str]]],
    *,
    output: str | None,
    method: str,
    show: int,
    quiet: bool,
    as_json: bool,
    **given: Any,
) -> None:
    from lsctl.artifacts import parse_labels
    from lsctl.errors import UsageError
    from lsctl.smoothing.run import softlabel

    check_json_vs_stdout(as_json, output)
    # An option of another method would be dropped without a word: refuse it,
    # as lsctl.soft_labels refuses a parameter its method does not take.
    # (An unknown --method is the registry's error, below.)
    known = {m for _, owners in declared for m in owners}
    for p, owners in declared:
        if method in known and method not in owners and given.get(p.name) != p.default:
            raise UsageError(
                f"{flag_name(p.name)} applies to --method {', '.join(owners)}, not {method}"
            )
    params = dict(given)
    for p, _ in declared:
        if p.labels:
            params[p.name] = parse_labels(params[p.name], flag_name(p.name))
    result = softlabel(data, output, method, params, progress=progress(quiet, as_json), show=show)
    for w in result.warnings:
        warn(w)
    if as_json:
        emit_json(
            {
                "output": result.output,
                "method": result.method,
                "labels": result.labels,
                **result.summary,
                "statistics": result.info.get("statistics"),
                "warnings": result.warnings,
                "examples": result.examples,
            }
        )
        return
    if quiet:
        return
    _render(result)


command = build_command()


def _render(r: SoftlabelResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    s = r.summary
    table = Table(title=f"soft labels: {r.method}", title_justify="left")
    table.add_column("rows", justify="right")
    table.add_column("mean p(gold)", justify="right")
    table.add_column("argmax = gold", justify="right")
    table.add_column("mean entropy (nats)", justify="right")

    def fmt(v: float | None, pct: bool = False) -> str:
        if v is None:
            return "–"
        return f"{100 * v:.1f}%" if pct else f"{v:.4f}"

    table.add_row(
        str(s["rows"]),
        fmt(s["mean_gold_prob"]),
        fmt(s["argmax_agreement"], pct=True),
        fmt(s["mean_entropy"]),
    )
    console.print(table)
    stats = r.info.get("statistics")
    if stats:
        console.print(f"statistics: {escape(str(stats))}", highlight=False)
    for ex in r.examples:
        text = (ex["text"] or "").replace("\n", " ")
        snippet = text[:80] + ("…" if len(text) > 80 else "")
        console.print(
            f"\n[bold]#{ex['id']}[/bold] gold=[cyan]{escape(str(ex['label']))}[/cyan]  "
            f"{escape(snippet)}",
            highlight=False,
        )
        probs = sorted(ex["soft_label"].items(), key=lambda kv: -kv[1])
        width = max(len(lab) for lab, _ in probs)
        for lab, p in probs[:6]:
            bar = "█" * max(0, round(20 * min(p, 1.0)))
            mark = "*" if lab == ex["label"] else " "
            console.print(
                f"  {mark}{escape(lab):<{width}} {p:7.4f} [green]{bar}[/green]", highlight=False
            )
        if len(probs) > 6:
            console.print(f"   … {len(probs) - 6} more labels", highlight=False)
    if r.output and r.output != "-":
        console.print(f"wrote {escape(r.output)}", highlight=False)
