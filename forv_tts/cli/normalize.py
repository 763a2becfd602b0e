"""`forv-tts normalize`: print exactly what the voice is given, one line per sentence."""

from __future__ import annotations

from typing import Annotated

import typer

from forv_tts.cli.options import LexiconOption, VoiceDirOption, _lexicon
from forv_tts.cli.root import _print_json, _read_text, app
from forv_tts.errors import InvalidInputError


@app.command()
def normalize(
    text: Annotated[
        str | None, typer.Argument(help="Korean text; omit or '-' to read stdin.", show_default=False)
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print each sentence's stages, rewrites and lexicon entries as JSON."),
    ] = False,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Under each sentence, every rewrite: span, rule and reading."),
    ] = False,
    lexicon: LexiconOption = None,
    voice_dir: VoiceDirOption = None,
) -> None:
    """Print exactly the text handed to the voice (after g2pk), one line per sentence."""
    from forv_tts import text as norm

    raw = _read_text(text)
    words = _lexicon(lexicon, voice_dir)
    if as_json:
        _print_json(norm.normalize_stages(raw, lexicon=words, explain=True))
        return
    if not explain:
        sentences = norm.normalize(raw, lexicon=words)
        if not sentences:
            raise InvalidInputError("nothing speakable in the text: give Korean text")
        for sentence in sentences:
            typer.echo(sentence)
        return
    stages = norm.normalize_stages(raw, lexicon=words, explain=True)
    if not stages:
        raise InvalidInputError("nothing speakable in the text: give Korean text")
    for stage in stages:
        typer.echo(stage["pronounced"])
        for rewrite in stage["rewrites"]:
            typer.echo(f"  {rewrite['span']!r} -> {rewrite['reading']}  [{rewrite['rule']}]")
