"""`forv-tts export`: a member's voice as a self-contained ONNX directory (forv_tts.voices.onnx)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forv_tts.cli.options import StepOption, VoiceDirOption
from forv_tts.cli.root import _print_json, app


@app.command("export")
def export_cmd(
    member: Annotated[str, typer.Option("--member", "-m", help="Member id to export.", show_default=False)],
    voice_dir: VoiceDirOption = None,
    step: StepOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Directory to write (default: <voice dir>/onnx/<member>, where say finds it).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON record of the export.")] = False,
) -> None:
    """Export a member's voice to ONNX: a directory that speaks without torch or coqui-tts installed.

    The directory holds encoder.onnx, decoder.onnx, vocoder.onnx and voice.json; `say --voice-dir D`
    speaks it when it sits at D/onnx/<member>. Prints the directory.
    """
    from forv_tts.synthesis import resolve_voice
    from forv_tts.voices.onnx import cache

    info = resolve_voice(member, voice_dir, step)
    target = cache.export_member(info, output)
    if as_json:
        _print_json(cache.describe(target))
    else:
        typer.echo(str(target))
