"""The voice registry: each descriptor becomes a loaded `Voice` at most once, on first use.

Why a registry and not a cache decorator: a worker serving many members needs (a) at most one load per
voice even when two threads ask for it at once (a member load is ~0.6 s and ~350 MB, so a duplicate is
waste, not just time), (b) a bound on how many stay loaded, evicting the least recently used, and (c) a
`preload` call to pay loading before the first request. Loads of *different* voices run in parallel;
a failed load is not cached (the next `get` retries and raises again). Loading is logged at INFO.

`default_registry()` is the process's registry (unbounded unless `FORV_TTS_MAX_VOICES` is set); the
public `forv_tts.load_voice` (also importable from here) uses it.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from forv_tts.errors import VoiceNotFoundError
from forv_tts.voices.base import ENGINE_ESPEAK, ENGINE_EXPORTED, Voice, VoiceInfo

log = logging.getLogger(__name__)

#: `(descriptor, engine) -> Voice`; the engine is "" for the built-in voice, else onnx or torch.
Loader = Callable[[VoiceInfo, str], Voice]


def load_uncached(info: VoiceInfo, engine: str = "") -> Voice:
    """Load `info` now with `engine` (onnx or torch for a member), whatever is cached."""
    if info.engine == ENGINE_ESPEAK:
        from forv_tts.voices.espeak import EspeakVoice

        return EspeakVoice(info)
    from forv_tts.voices.onnx import ENGINE_ONNX

    if info.engine == ENGINE_EXPORTED:
        if engine != ENGINE_ONNX:
            raise VoiceNotFoundError(
                f"member {info.id} is an exported voice only ({info.config}): it has no checkpoints for "
                "the torch engine; use the onnx engine",
                member=info.id,
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


def engine_for(info: VoiceInfo, engine: str | None = None) -> str:
    """The engine `info` is loaded with: "" for the built-in voice, else `engine`, `$FORV_TTS_ENGINE`
    or the default (`forv_tts.voices.onnx.resolve_engine`)."""
    if info.engine == ENGINE_ESPEAK:
        return ""
    from forv_tts.voices.onnx import resolve_engine

    return resolve_engine(engine)


def voice_module(info: VoiceInfo, engine: str | None = None) -> str:
    """The module whose import loading `info` with `engine` costs most (torch's, for the torch engine)."""
    from forv_tts.voices.onnx import ENGINE_ONNX

    if info.engine == ENGINE_ESPEAK:
        return "forv_tts.voices.espeak"
    if info.engine == ENGINE_EXPORTED or engine_for(info, engine) == ENGINE_ONNX:
        return "onnxruntime"
    return "forv_tts.voices.coqui.voice"


def import_for(info: VoiceInfo, engine: str | None = None) -> None:
    """Import the modules loading `info` will need; load nothing (lets a caller overlap them)."""
    importlib.import_module(voice_module(info, engine))


class _Slot:
    """One voice being loaded: the first asker loads, the others wait on `done`."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.voice: Voice | None = None
        self.error: BaseException | None = None


class VoiceRegistry:
    """Loaded voices by descriptor; `max_loaded` (None: no bound) keeps the most recently used."""

    def __init__(self, max_loaded: int | None = None, loader: Loader = load_uncached) -> None:
        if max_loaded is not None and max_loaded < 1:
            raise ValueError("max_loaded must be at least 1 (or None for no bound)")
        self.max_loaded = max_loaded
        self._loader = loader
        self._lock = threading.Lock()
        self._loaded: OrderedDict[tuple[VoiceInfo, str], Voice] = OrderedDict()
        self._loading: dict[tuple[VoiceInfo, str], _Slot] = {}
        self.loads = 0  # completed loads, for tests and metrics

    def get(self, info: VoiceInfo, engine: str | None = None) -> Voice:
        """The loaded voice for `info` (with `engine`, see `engine_for`), loading it once, whoever else
        asks meanwhile."""
        key = (info, engine_for(info, engine))
        with self._lock:
            voice = self._loaded.get(key)
            if voice is not None:
                self._loaded.move_to_end(key)
                return voice
            slot = self._loading.get(key)
            owner = slot is None
            if slot is None:
                slot = self._loading[key] = _Slot()
        if not owner:
            slot.done.wait()
            if slot.error is not None:
                raise slot.error
            assert slot.voice is not None
            return slot.voice
        return self._load(key, slot)

    def _load(self, key: tuple[VoiceInfo, str], slot: _Slot) -> Voice:
        info, engine = key
        t0 = time.perf_counter()
        log.info("loading voice %s (%s%s)", info.id, info.engine, f", {engine} engine" if engine else "")
        try:
            voice = self._loader(info, engine)
        except BaseException as err:
            with self._lock:
                del self._loading[key]
            slot.error = err
            slot.done.set()
            raise
        evicted: list[VoiceInfo] = []
        with self._lock:
            del self._loading[key]
            self._loaded[key] = voice
            self.loads += 1
            while self.max_loaded is not None and len(self._loaded) > self.max_loaded:
                (old, _), _ = self._loaded.popitem(last=False)
                evicted.append(old)
        slot.voice = voice
        slot.done.set()
        log.info("loaded voice %s (%s) in %.2f s", info.id, info.engine, time.perf_counter() - t0)
        for old in evicted:
            log.info("unloaded voice %s (least recently used; at most %s loaded)", old.id, self.max_loaded)
        return voice

    def preload(self, infos: Iterable[VoiceInfo], engine: str | None = None) -> list[Voice]:
        """Load each voice now (in order, in this thread) so the first request does not pay for it."""
        return [self.get(info, engine) for info in infos]

    def loaded(self) -> list[VoiceInfo]:
        """Descriptors of the voices loaded now, least recently used first."""
        with self._lock:
            return [info for info, _ in self._loaded]

    def is_loaded(self, info: VoiceInfo, engine: str | None = None) -> bool:
        """Whether `info` is loaded now (without loading it or touching its recency)."""
        with self._lock:
            return (info, engine_for(info, engine)) in self._loaded

    def clear(self) -> None:
        """Forget every loaded voice (loads in progress finish and are kept)."""
        with self._lock:
            self._loaded.clear()


_default: VoiceRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> VoiceRegistry:
    """The process's registry, made on first use with `settings.max_loaded_voices()` as its bound."""
    global _default
    with _default_lock:
        if _default is None:
            from forv_tts import settings

            _default = VoiceRegistry(max_loaded=settings.max_loaded_voices())
        return _default


def __getattr__(name: str) -> Any:
    # `load_voice` here is the public `forv_tts.load_voice` (one function, two import paths), looked
    # up on use so that importing the registry does not import the synthesis module.
    if name == "load_voice":
        from forv_tts.synthesis import load_voice

        return load_voice
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
