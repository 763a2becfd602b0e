"""Options shared by several commands, declared once so their names and help stay the same."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forv_tts.errors import InvalidInputError

if TYPE_CHECKING:
    from forv_tts.text.lexicon import Lexicon

VoiceDirOption = Annotated[
    Path | None,
    typer.Option(
        "--voice-dir",
        help="Directory with glow-tts/ and hifigan-v2/ (default: $FORV_TTS_VOICE_DIR, else ./voice_model).",
        show_default=False,
    ),
]
MemberOption = Annotated[
    str | None,
    typer.Option(
        "--member",
        "-m",
        help="Member id whose voice to use (default: the built-in voice).",
        show_default=False,
    ),
]
LengthScaleOption = Annotated[
    float | None,
    typer.Option(
        "--length-scale",
        help="Speaking rate: >1 slower, <1 faster (default: the voice's).",
        show_default=False,
    ),
]
EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="How members are spoken: onnx (exported graphs, no torch) or torch "
        "(default: $FORV_TTS_ENGINE, else onnx).",
        metavar="onnx|torch",
        show_default=False,
    ),
]
NoNormalizeOption = Annotated[
    bool,
    typer.Option("--no-normalize", help="Hand the text to the voice as is (no number reading, no g2pk)."),
]
LexiconOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--lexicon",
        help="TSV of 'written<TAB>spoken' words read first (repeatable; merged with $FORV_TTS_LEXICON "
        "and the voice directory's lexicon.tsv, later wins).",
        show_default=False,
    ),
]
StepOption = Annotated[
    int | None,
    typer.Option(
        "--step", help="Checkpoint step to load (default: the highest present).", show_default=False
    ),
]
# Upload options, shared by `say --upload` and `upload` (see forv_tts.storage.gcs).
BucketOption = Annotated[
    str | None,
    typer.Option(
        "--bucket", envvar="FORV_TTS_BUCKET", help="GCS bucket ($FORV_TTS_BUCKET).", show_default=False
    ),
]
KeepLocalOption = Annotated[
    bool,
    typer.Option(
        "--keep-local/--no-keep-local",
        help="Keep the local wav; with --no-keep-local it is deleted only once uploaded.",
    ),
]
UploadTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--upload-timeout",
        help="Give up retrying an upload after this many seconds (default: 30).",
        metavar="SECONDS",
        show_default=False,
    ),
]
OverwriteOption = Annotated[
    bool,
    typer.Option("--overwrite", help="Replace an existing object holding different bytes (default: error)."),
]
SignedUrlOption = Annotated[
    str | None,
    typer.Option(
        "--signed-url",
        help="Also print a V4 signed URL valid this long (15m, 1h, up to 7d); needs a service-account key.",
        metavar="DURATION",
        show_default=False,
    ),
]


def _lexicon(
    paths: list[Path] | None, voice_dir: Path | str | None, *, normalize: bool = True
) -> Lexicon | None:
    """The merged user lexicon for a command (voice dir's lexicon.tsv, $FORV_TTS_LEXICON, --lexicon)."""
    if not normalize:
        if paths:
            raise InvalidInputError("--lexicon needs normalisation: drop --no-normalize")
        return None
    from forv_tts.paths import voice_dir as resolve_voice_dir
    from forv_tts.text import resolve_lexicon

    return resolve_lexicon(paths or (), voice_dir=resolve_voice_dir(voice_dir))
