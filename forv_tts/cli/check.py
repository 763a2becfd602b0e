"""`forv-tts check`: load each member, speak test phrases, report one line (or JSON object) per member."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from forv_tts.cli.options import VoiceDirOption
from forv_tts.cli.root import app
from forv_tts.errors import EXIT_FAILURE

if TYPE_CHECKING:
    from forv_tts.voices.check import MemberCheck


def _line(result: MemberCheck) -> str:
    """`ok   1  legacy zero-frames (date) load 0.41 s  RTF 0.08  cache hit  3.12 s audio ...`."""
    from forv_tts.voices.duration_rule import evidence_kind

    head = f"{'ok' if result.ok else 'FAIL':<4} {result.member}"
    rule = result.duration_rule or "-"
    if result.duration_rule_evidence:
        rule += f" ({evidence_kind(result.duration_rule_evidence)})"
    parts = [head, result.format or "-", rule]
    if result.load_s is not None:
        parts.append(f"load {result.load_s:.2f} s")
    spoken = [p for p in result.phrases if p.duration_s is not None]
    if spoken:
        rtf = max(p.rtf or 0.0 for p in spoken)
        audio = sum(p.duration_s or 0.0 for p in spoken)
        peak = min((p.peak_dbfs for p in spoken if p.peak_dbfs is not None), default=None)
        silence = max(p.silence_share or 0.0 for p in spoken)
        parts.append(f"RTF {rtf:.2f}")
        parts.append(f"{audio:.2f} s audio")
        if peak is not None:
            parts.append(f"peak {peak:.1f} dBFS")
        parts.append(f"silence {silence:.0%}")
    if result.weight_cache:
        parts.append(f"cache {result.weight_cache}")
    line = "  ".join(parts)
    return f"{line}  -- {result.reason}" if result.reasons else line


@app.command()
def check(
    member: Annotated[
        list[str] | None,
        typer.Option(
            "--member", "-m", help="Member to check (repeat for several; default: all).", show_default=False
        ),
    ] = None,
    voice_dir: VoiceDirOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per member per line.")
    ] = False,
    text: Annotated[
        str | None,
        typer.Option(
            "--text", help="Also speak this Korean text (besides the fixed test phrase).", show_default=False
        ),
    ] = None,
) -> None:
    """Load every member (or the given ones), speak a test phrase, and judge the audio.

    Exit 0 when every member passes, 1 when any fails (the line says why): for CI and for a machine
    that just received voices.
    """
    from forv_tts.paths import voice_dir as resolve_voice_dir
    from forv_tts.voices.check import check_voices

    root = resolve_voice_dir(voice_dir)
    results = check_voices(root, member or None, text)
    if not results:
        typer.echo(f"forv-tts: error: no members in {root} to check (see voice_model/README.md)", err=True)
        raise typer.Exit(EXIT_FAILURE)
    for result in results:
        if as_json:
            typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        else:
            typer.echo(_line(result))
    failed = [r.member for r in results if not r.ok]
    if failed:
        if not as_json:
            typer.echo(
                f"forv-tts: {len(failed)} of {len(results)} members failed: {', '.join(failed)}", err=True
            )
        raise typer.Exit(EXIT_FAILURE)
