"""`lsctl data`: import, inspect, split and under-sample datasets."""

from __future__ import annotations

import typer

app = typer.Typer(help="Import, inspect, split and under-sample datasets.", no_args_is_help=True)
