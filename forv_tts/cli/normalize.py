"""`forv-tts normalize`: print exactly what the voice is given, one line per sentence."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from forv_tts.cli.options import LexiconOption, VoiceDirOption, _lexicon
from forv_tts.cli.root import _print_json, _read_text, app
from forv_tts.errors import ForvError, NothingToSayError


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
    member: Annotated[
        str | None,
        typer.Option(
            "--member",
            "-m",
            help="Also check the result against this voice's characters (exit 1 if it lacks some).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print exactly the text handed to the voice (after g2pk), one line per sentence."""
    from forv_tts import text as norm
    from forv_tts.synthesis import warn_dropped

    raw = _read_text(text)
    words = _lexicon(lexicon, voice_dir)
    sentences = norm.normalize(raw, lexicon=words)
    if sentences:
        warn_dropped(raw)
    problem = _check_member(member, voice_dir, sentences) if member else None
    _emit(raw, words, as_json=as_json, explain=explain)
    if problem is not None:
        raise problem  # after the text: it is still what the voice would be given


def _emit(raw: str, words: Any, *, as_json: bool, explain: bool) -> None:
    from forv_tts import text as norm

    if as_json:
        _print_json(norm.normalize_stages(raw, lexicon=words, explain=True))
        return
    if not explain:
        sentences = norm.normalize(raw, lexicon=words)
        if not sentences:
            raise NothingToSayError("nothing speakable in the text: give Korean text", text=raw[:200])
        for sentence in sentences:
            typer.echo(sentence)
        return
    stages = norm.normalize_stages(raw, lexicon=words, explain=True)
    if not stages:
        raise NothingToSayError("nothing speakable in the text: give Korean text", text=raw[:200])
    for stage in stages:
        typer.echo(stage["pronounced"])
        for rewrite in stage["rewrites"]:
            typer.echo(f"  {rewrite['span']!r} -> {rewrite['reading']}  [{rewrite['rule']}]")


def _check_member(member: str, voice_dir: Any, sentences: list[str]) -> ForvError | None:
    """`--member`: name the characters the voice has no symbol for (from its config; no weights)."""
    from forv_tts.synthesis import describe_characters, resolve_voice, unknown_characters

    info = resolve_voice(member, voice_dir)
    unknown = unknown_characters(info, sentences)
    if unknown is None:
        typer.echo(f"forv-tts: voice {info.id} ({info.engine}) takes any text; nothing to check", err=True)
    elif unknown:
        return ForvError(
            f"voice {info.id} has no symbol for {describe_characters(unknown)}: they would be dropped "
            "(rewrite them, or add a lexicon entry)"
        )
    return None
