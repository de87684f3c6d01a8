"""Thin Typer front end: parse options, call the core, render. No math here."""
