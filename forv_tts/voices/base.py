"""What a voice is: a cheap descriptor (`VoiceInfo`) and the loaded `Voice` protocol."""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from forv_tts.audio import Audio
from forv_tts.config import SynthesisConfig

log = logging.getLogger(__name__)


BUILTIN_VOICE_ID = "builtin"
ENGINE_COQUI = "glow-tts+hifigan-v2"
ENGINE_ESPEAK = "espeak-ng"
ENGINE_EXPORTED = "onnx-export"  # an exported voice directory only (`forv-tts export`), no checkpoints

#: Team layout: `<voice_dir>/glow-tts/<i>/<i>g_checkpoint_<step>.pth.tar` + `<i>g_config.json`, and
#: `<voice_dir>/hifigan-v2/<i>/<i>h_checkpoint_<step>.pth.tar` + `<i>h_config.json`.
GLOW_DIR = "glow-tts"
VOCODER_DIR = "hifigan-v2"
#: `<voice_dir>/onnx/<i>/voice.json` + graphs: a member exported by `forv-tts export`.
EXPORTED_DIR = "onnx"
FORMAT_LEGACY = "legacy"
FORMAT_MODERN = "modern"
FORMAT_UNKNOWN = "unknown"
_MEMBER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class VoiceInfo:
    """Everything known about a voice without loading it."""

    id: str
    engine: str
    format: str  # "legacy" (Coqui TTS 0.x), "modern" (coqui-tts >= 0.22) or "builtin"
    sample_rate: int | None = None
    checkpoint: Path | None = None
    config: Path | None = None
    step: int | None = None
    vocoder_checkpoint: Path | None = None
    vocoder_config: Path | None = None
    vocoder_step: int | None = None
    missing: tuple[str, ...] = field(default_factory=tuple)
    #: Glow-TTS token durations: "zero-frames" (Coqui TTS <= 0.3.1) or "min-one-frame" (>= 0.4.0);
    #: None for voices without one. Decided by `forv_tts.voices.duration_rule` from the files.
    duration_rule: str | None = None
    duration_rule_evidence: str | None = None
    #: Files present but not usable together (e.g. a vocoder trained on other mel settings).
    problems: tuple[str, ...] = field(default_factory=tuple)
    #: The voice directory it was found in (the built-in voice: the one it was asked for from), whose
    #: lexicon.tsv the library applies to this voice's text; None when unknown (the default directory).
    voice_dir: Path | None = None

    @property
    def usable(self) -> bool:
        """True when every file the voice needs is present and the files agree."""
        return not self.missing and not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (paths as strings)."""
        d = asdict(self)
        for key, value in d.items():
            if isinstance(value, Path):
                d[key] = str(value)
        d["missing"] = list(self.missing)
        d["problems"] = list(self.problems)
        return d


@dataclass(frozen=True)
class SentencePart:
    """A piece of one sentence's audio, as a voice that streams (`OnnxVoice.stream`) makes it.

    The parts of a sentence joined are exactly `synthesize`'s samples; the `last` one carries the
    sentence's word times (`Audio.words`).
    """

    samples: Any  # float32 samples in [-1, 1]
    last: bool
    words: Any = None  # `audio.WordSpans` on the last part


class Voice(Protocol):
    """A loaded voice: turns one normalised sentence into audio.

    The primitive is per sentence (splitting, normalising and joining are `forv_tts.synthesis`'s
    job, which also makes streaming one chunk per sentence possible); `config` carries the seed and
    speaking rate (`config.normalize` is for the text stage, a voice ignores it). A voice must be safe
    to call from several threads (engines serialise internally where their library is not).
    """

    info: VoiceInfo
    sample_rate: int

    def synthesize(self, text: str, config: SynthesisConfig | None = None) -> Audio:
        """Speak one sentence of normalised Hangul text.

        Characters the voice cannot speak are dropped with a logged warning; if nothing speakable is left
        `NothingToSayError` is raised instead of returning silence.
        """
        ...
