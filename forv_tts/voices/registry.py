"""Loading voices: each descriptor becomes a `Voice` once per process, on first use."""

from __future__ import annotations

import functools
import importlib
import logging
import time

from forv_tts.voices.base import ENGINE_ESPEAK, Voice, VoiceInfo

log = logging.getLogger(__name__)


def _load_uncached(info: VoiceInfo) -> Voice:
    if info.engine == ENGINE_ESPEAK:
        from forv_tts.voices.espeak import EspeakVoice

        return EspeakVoice(info)
    from forv_tts.voices.coqui.voice import CoquiVoice

    return CoquiVoice(info)


def import_for(info: VoiceInfo) -> None:
    """Import the modules loading `info` will need (torch and coqui's code for a member); load nothing.

    Costs nothing when they are already imported; lets a caller overlap them with other work.
    """
    importlib.import_module(
        "forv_tts.voices.espeak" if info.engine == ENGINE_ESPEAK else "forv_tts.voices.coqui.voice"
    )


@functools.cache
def load_voice(info: VoiceInfo) -> Voice:
    """Load a voice once per process (cached on its descriptor) and log how long it took."""
    t0 = time.perf_counter()
    voice = _load_uncached(info)
    log.info("loaded voice %s (%s) in %.2f s", info.id, info.engine, time.perf_counter() - t0)
    return voice
