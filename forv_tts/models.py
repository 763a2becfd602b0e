"""Voices: cheap descriptors until first use, loaded once per process.

A `VoiceInfo` is what `forv-tts members` lists: paths and facts read from config files only, never from
weights. `load_voice` turns one into a `Voice` the first time it is needed and caches it for the life
of the process, so a `say --member 3` loads member 3 and nothing else.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from forv_tts.audio import Audio

log = logging.getLogger(__name__)

BUILTIN_VOICE_ID = "builtin"
ENGINE_COQUI = "glow-tts+hifigan-v2"
ENGINE_ESPEAK = "espeak-ng"


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

    @property
    def usable(self) -> bool:
        """True when every file the voice needs is present."""
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (paths as strings)."""
        d = asdict(self)
        for key, value in d.items():
            if isinstance(value, Path):
                d[key] = str(value)
        d["missing"] = list(self.missing)
        return d


class Voice(Protocol):
    """A loaded voice: turns one normalised sentence into audio."""

    info: VoiceInfo
    sample_rate: int

    def synthesize(self, text: str, *, seed: int | None = None, length_scale: float | None = None) -> Audio:
        """Speak one sentence of normalised Hangul text.

        Characters the voice cannot speak are dropped with a logged warning; if nothing speakable is left
        `NothingToSayError` is raised instead of returning silence.
        """
        ...


def _load_uncached(info: VoiceInfo) -> Voice:
    if info.engine == ENGINE_ESPEAK:
        from forv_tts.espeak import EspeakVoice

        return EspeakVoice(info)
    from forv_tts.coqui_voice import CoquiVoice

    return CoquiVoice(info)


@functools.cache
def load_voice(info: VoiceInfo) -> Voice:
    """Load a voice once per process (cached on its descriptor) and log how long it took."""
    t0 = time.perf_counter()
    voice = _load_uncached(info)
    log.info("loaded voice %s (%s) in %.2f s", info.id, info.engine, time.perf_counter() - t0)
    return voice
