"""Loading voices: each descriptor becomes a `Voice` once per process (per engine), on first use.

A member is spoken by one of two engines: ONNX (`forv_tts.voices.onnx`, the default: no torch in the
process) or torch (`forv_tts.voices.coqui`), chosen by the caller's option, else `$FORV_TTS_ENGINE`
(`forv_tts.voices.onnx.resolve_engine`). An exported-only member has no checkpoints: ONNX only.
"""

from __future__ import annotations

import functools
import importlib
import logging
import time

from forv_tts.errors import VoiceNotFoundError
from forv_tts.voices.base import ENGINE_ESPEAK, ENGINE_EXPORTED, Voice, VoiceInfo

log = logging.getLogger(__name__)


def _load_uncached(info: VoiceInfo, engine: str) -> Voice:
    if info.engine == ENGINE_ESPEAK:
        from forv_tts.voices.espeak import EspeakVoice

        return EspeakVoice(info)
    from forv_tts.voices.onnx import ENGINE_ONNX

    if info.engine == ENGINE_EXPORTED:
        if engine != ENGINE_ONNX:
            raise VoiceNotFoundError(
                f"member {info.id} is an exported voice only ({info.config}): it has no checkpoints for "
                "the torch engine; use --engine onnx"
            )
        from forv_tts.voices.onnx.voice import OnnxVoice

        assert info.config is not None
        return OnnxVoice(info, info.config.parent)
    if engine == ENGINE_ONNX:
        from forv_tts.voices.onnx import cache

        voice: Voice = cache.load(info)
        return voice
    from forv_tts.voices.coqui.voice import CoquiVoice

    return CoquiVoice(info)


def voice_module(info: VoiceInfo, engine: str | None = None) -> str:
    """The module whose import loading `info` with `engine` costs most (torch's, for the torch engine)."""
    from forv_tts.voices.onnx import ENGINE_ONNX, resolve_engine

    if info.engine == ENGINE_ESPEAK:
        return "forv_tts.voices.espeak"
    if info.engine == ENGINE_EXPORTED or resolve_engine(engine) == ENGINE_ONNX:
        return "onnxruntime"
    return "forv_tts.voices.coqui.voice"


def import_for(info: VoiceInfo, engine: str | None = None) -> None:
    """Import the modules loading `info` will need (torch and coqui's code for a member); load nothing.

    Costs nothing when they are already imported; lets a caller overlap them with other work.
    """
    importlib.import_module(voice_module(info, engine))


@functools.cache
def _load_cached(info: VoiceInfo, engine: str) -> Voice:
    t0 = time.perf_counter()
    voice = _load_uncached(info, engine)
    log.info(
        "loaded voice %s (%s, %s engine) in %.2f s", info.id, info.engine, engine, time.perf_counter() - t0
    )
    return voice


class _VoiceLoader:
    """`load_voice`: once per process per descriptor and engine (`cache_clear` forgets them all)."""

    def __call__(self, info: VoiceInfo, engine: str | None = None) -> Voice:
        """Load a voice once per process and log how long it took; for a member, `engine` (onnx or
        torch) is the caller's option, else `$FORV_TTS_ENGINE`, else ONNX."""
        if info.engine == ENGINE_ESPEAK:
            return _load_cached(info, "")
        from forv_tts.voices.onnx import resolve_engine

        return _load_cached(info, resolve_engine(engine))

    def cache_clear(self) -> None:
        _load_cached.cache_clear()


load_voice = _VoiceLoader()
