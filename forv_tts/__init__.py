"""forv-tts: Korean text-to-speech with the team's own Coqui voices, as a library first.

    import forv_tts
    voice = forv_tts.load_voice("3", voice_dir="voice_model")      # or None for the built-in voice
    audio = forv_tts.synthesize("안녕하세요", voice, forv_tts.SynthesisConfig(seed=7, length_scale=1.1))
    for chunk in forv_tts.iter_synthesize(long_text, voice):        # one chunk per sentence, as made
        play(chunk.samples, chunk.sample_rate)
    forv_tts.normalize("KTX 표가 3장에 15,000원이에요")

Every public name is in `__all__` and imported on first use (module `__getattr__`), so `import
forv_tts` loads nothing heavy (no torch, numpy, g2pk or google.cloud). See docs/python-api.md;
`forv_tts.cli` is a thin Typer layer over the same calls.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from forv_tts.text.lexicon import Lexicon

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS: dict[str, str] = {
    "load_voice": "forv_tts.synthesis",
    "synthesize": "forv_tts.synthesis",
    "iter_synthesize": "forv_tts.synthesis",
    "list_voices": "forv_tts.synthesis",
    "SynthesisConfig": "forv_tts.config",
    "Audio": "forv_tts.audio",
    "AudioChunk": "forv_tts.audio",
    "VoiceInfo": "forv_tts.voices.base",
    "Voice": "forv_tts.voices.base",
    "VoiceRegistry": "forv_tts.voices.registry",
    # Every error the library raises (forv_tts.errors; the lexicon's from forv_tts.text.lexicon).
    "ForvError": "forv_tts.errors",
    "UsageError": "forv_tts.errors",
    "InvalidInputError": "forv_tts.errors",
    "NoTextError": "forv_tts.errors",
    "NothingToSayError": "forv_tts.errors",
    "TextTooLongError": "forv_tts.errors",
    "VoiceNotFoundError": "forv_tts.errors",
    "UnknownMemberError": "forv_tts.errors",
    "IncompleteMemberError": "forv_tts.errors",
    "VoiceDirNotFoundError": "forv_tts.errors",
    "VoiceDirError": "forv_tts.errors",
    "OutputPathError": "forv_tts.errors",
    "DiskFullError": "forv_tts.errors",
    "MissingBucketError": "forv_tts.errors",
    "VoiceLoadError": "forv_tts.errors",
    "SynthesisError": "forv_tts.errors",
    "CancelledError": "forv_tts.errors",
    "UploadError": "forv_tts.errors",
    "ObjectExistsError": "forv_tts.errors",
    "BucketNotFoundError": "forv_tts.errors",
    "UploadUnreachableError": "forv_tts.errors",
    "CredentialsError": "forv_tts.errors",
    "ManifestExistsError": "forv_tts.errors",
    "ManifestMismatchError": "forv_tts.errors",
    "ManifestInUseError": "forv_tts.errors",
    "BatchFailedError": "forv_tts.errors",
    "BatchInterruptedError": "forv_tts.errors",
    "BatchTerminatedError": "forv_tts.errors",
    "UnknownFormatError": "forv_tts.errors",
    "EncoderMissingError": "forv_tts.errors",
    "ClipConflictError": "forv_tts.errors",
    "LexiconError": "forv_tts.text.lexicon",
}

__all__ = ["__version__", "normalize", *sorted(_EXPORTS)]


def normalize(
    text: str,
    *,
    voice_dir: str | os.PathLike[str] | None = None,
    lexicon: Lexicon | Literal["auto"] | None = "auto",
) -> list[str]:
    """Exactly the strings a voice is given for `text`, one per sentence ([] if nothing is speakable).

    `lexicon` "auto" reads the user lexicon as `synthesize` and the CLI do: `voice_dir`'s lexicon.tsv
    (else `$FORV_TTS_VOICE_DIR`'s, else ./voice_model's), then `$FORV_TTS_LEXICON`; a `Lexicon` is used
    as given, None applies none.
    """
    from forv_tts.config import SynthesisConfig
    from forv_tts.synthesis import lexicon_for
    from forv_tts.text import normalize as run

    return list(run(text, lexicon=lexicon_for(SynthesisConfig(lexicon=lexicon), voice_dir)))


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'forv_tts' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
