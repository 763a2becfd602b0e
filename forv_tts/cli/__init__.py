"""The `forv-tts` command line: a thin Typer layer over the library, one module per command."""

from forv_tts.cli.root import app, main

__all__ = ["app", "main"]
