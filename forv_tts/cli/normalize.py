"""`forv-tts normalize`: print exactly what the voice is given, one line per sentence."""

from __future__ import annotations

from typing import Annotated

import typer

from forv_tts.cli.root import _print_json, _read_text, app
from forv_tts.errors import InvalidInputError


@app.command()
def normalize(
    text: Annotated[
        str | None, typer.Argument(help="Korean text; omit or '-' to read stdin.", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print each sentence's stages as JSON.")] = False,
) -> None:
    """Print exactly the text handed to the voice (after g2pk), one line per sentence."""
    from forv_tts import normalize as norm

    raw = _read_text(text)
    if as_json:
        _print_json(norm.normalize_stages(raw))
        return
    sentences = norm.normalize(raw)
    if not sentences:
        raise InvalidInputError("nothing speakable in the text: give Korean text")
    for sentence in sentences:
        typer.echo(sentence)


# --- batch -------------------------------------------------------------------------------------------
