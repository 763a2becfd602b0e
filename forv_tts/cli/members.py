"""`forv-tts members`: the built-in voice and the members installed in the voice directory."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from forv_tts.cli.options import VoiceDirOption
from forv_tts.cli.root import _print_json, app


@app.command()
def members(
    voice_dir: VoiceDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List the voices: the built-in one and every member found in the voice directory."""
    from forv_tts.paths import voice_dir as resolve_voice_dir
    from forv_tts.voices.duration_rule import evidence_kind
    from forv_tts.voices.layout import list_voices

    root = resolve_voice_dir(voice_dir)
    voices = list_voices(root)
    if as_json:
        _print_json([v.to_dict() for v in voices])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "engine", "format", "step", "rate", "durations", "checkpoint", "status", box=None)
    for v in voices:
        if v.missing:
            status = "missing: " + ", ".join(v.missing)
        elif v.problems:
            status = "not ok: " + "; ".join(v.problems)
        else:
            status = "ok"
        table.add_row(
            v.id,
            v.engine,
            v.format,
            "" if v.step is None else str(v.step),
            "" if v.sample_rate is None else str(v.sample_rate),
            f"{v.duration_rule} ({evidence_kind(v.duration_rule_evidence or '')})" if v.duration_rule else "",
            "" if v.checkpoint is None else str(v.checkpoint),
            status,
        )
    # Piped output is for grep/awk: never truncate a path to fit an imaginary 80-column screen.
    Console(width=None if sys.stdout.isatty() else 1000).print(table)
    if len(voices) == 1:
        typer.echo(f"no members in {root}: put checkpoints there (see voice_model/README.md)", err=True)
