"""The voice registry: one load per voice under concurrency, an LRU bound, preload, failures retried."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from forv_tts.voices.base import ENGINE_COQUI, VoiceInfo
from forv_tts.voices.registry import VoiceRegistry


def _info(member: str) -> VoiceInfo:
    return VoiceInfo(id=member, engine=ENGINE_COQUI, format="modern")


class SlowLoader:
    """Counts loads per voice; each takes `delay` seconds so concurrent askers overlap."""

    def __init__(self, delay: float = 0.3, fail: set[str] | None = None) -> None:
        self.delay = delay
        self.fail = fail or set()
        self.calls: dict[str, int] = {}
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def __call__(self, info: VoiceInfo, engine: str = "") -> Any:
        with self._lock:
            self.calls[info.id] = self.calls.get(info.id, 0) + 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            time.sleep(self.delay)
            if info.id in self.fail:
                raise RuntimeError(f"cannot load {info.id}")
            return object()
        finally:
            with self._lock:
                self.active -= 1


def _ask_at_once(registry: VoiceRegistry, infos: list[VoiceInfo]) -> list[Any]:
    results: list[Any] = [None] * len(infos)
    start = threading.Barrier(len(infos))

    def ask(i: int) -> None:
        start.wait()
        try:
            results[i] = registry.get(infos[i])
        except Exception as err:
            results[i] = err

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(infos))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive()
    return results


def test_two_threads_asking_at_once_load_once() -> None:
    loader = SlowLoader()
    registry = VoiceRegistry(loader=loader)
    results = _ask_at_once(registry, [_info("3")] * 8)
    assert loader.calls == {"3": 1}
    assert all(r is results[0] for r in results)
    assert registry.get(_info("3")) is results[0] and registry.loads == 1


def test_different_voices_load_in_parallel() -> None:
    loader = SlowLoader(delay=0.5)
    registry = VoiceRegistry(loader=loader)
    _ask_at_once(registry, [_info("1"), _info("2")])
    assert loader.max_active == 2 and loader.calls == {"1": 1, "2": 1}


def test_a_failed_load_raises_for_every_waiter_and_is_retried() -> None:
    loader = SlowLoader(fail={"5"})
    registry = VoiceRegistry(loader=loader)
    results = _ask_at_once(registry, [_info("5")] * 3)
    assert all(isinstance(r, RuntimeError) for r in results) and loader.calls == {"5": 1}
    with pytest.raises(RuntimeError):
        registry.get(_info("5"))
    assert loader.calls == {"5": 2} and not registry.loaded()


def test_bound_keeps_the_most_recently_used(caplog: pytest.LogCaptureFixture) -> None:
    loader = SlowLoader(delay=0)
    registry = VoiceRegistry(max_loaded=2, loader=loader)
    with caplog.at_level("INFO", logger="forv_tts.voices.registry"):
        a = registry.get(_info("a"))
        registry.get(_info("b"))
        assert registry.get(_info("a")) is a  # a is now the most recent
        registry.get(_info("c"))  # evicts b
    assert [i.id for i in registry.loaded()] == ["a", "c"]
    registry.get(_info("b"))
    assert loader.calls == {"a": 1, "b": 2, "c": 1}
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("loaded voice a") for m in messages)
    assert any(m.startswith("unloaded voice b") for m in messages)


def test_preload() -> None:
    loader = SlowLoader(delay=0)
    registry = VoiceRegistry(loader=loader)
    voices = registry.preload([_info("1"), _info("2")])
    assert registry.is_loaded(_info("1")) and registry.get(_info("2")) is voices[1]
    assert loader.calls == {"1": 1, "2": 1}
    with pytest.raises(ValueError):
        VoiceRegistry(max_loaded=0)


def test_load_voice_is_one_function_under_both_import_paths() -> None:
    import forv_tts
    from forv_tts import settings
    from forv_tts.errors import UsageError
    from forv_tts.voices import registry
    from forv_tts.voices.espeak import builtin_info

    assert registry.load_voice is forv_tts.load_voice
    # The built-in voice asked for from the default voice directory (whose lexicon.tsv it reads).
    voice = registry.load_voice(builtin_info(settings.voice_dir()))
    assert voice is forv_tts.load_voice(None)  # a VoiceInfo or a member id: the same cached voice
    with pytest.raises(UsageError, match="engine by keyword"):
        registry.load_voice(builtin_info(), "onnx")  # the old (info, engine) positional call
