"""The built-in voice against the real libespeak-ng from espeakng-loader (no mocks)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from forv_tts.config import SynthesisConfig
from forv_tts.errors import InvalidInputError, NothingToSayError
from forv_tts.voices import espeak as espeak_module
from forv_tts.voices.base import BUILTIN_VOICE_ID, ENGINE_ESPEAK
from forv_tts.voices.espeak import (
    SAMPLE_RATE,
    TUNING,
    EspeakVoice,
    Tuning,
    builtin_info,
    espeak_input,
    text_to_phonemes,
)
from forv_tts.voices.registry import load_voice

HELLO = "안녕하세요"


@pytest.fixture(scope="module")
def voice() -> EspeakVoice:
    return EspeakVoice(builtin_info())


def _run_python(code: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, timeout=120)


def _rms(samples: npt.NDArray[np.float32]) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def test_builtin_info_describes_the_voice_without_loading_the_library() -> None:
    # A fresh interpreter: this test process has the library loaded already.
    proc = _run_python(
        """
        import forv_tts.voices.espeak as e
        info = e.builtin_info()
        assert not e._checked, "builtin_info initialised espeak"
        with open("/proc/self/maps") as f:
            assert "libespeak-ng" not in f.read(), "builtin_info loaded libespeak-ng"
        print(info.id, info.engine, info.format, info.sample_rate, info.usable)
        """
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().split() == [BUILTIN_VOICE_ID, ENGINE_ESPEAK, "builtin", "22050", "True"]
    assert builtin_info().missing == ()


def test_sample_rate_is_what_the_library_reports(voice: EspeakVoice) -> None:
    assert voice.sample_rate == SAMPLE_RATE == builtin_info().sample_rate == 22050
    assert voice.info == builtin_info()


def test_speaks_korean_as_plausible_audio(voice: EspeakVoice) -> None:
    audio = voice.synthesize(HELLO)
    assert audio.sample_rate == 22050
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert 0.3 < audio.duration < 3.0
    assert np.all(np.abs(audio.samples) <= 1.0)
    assert _rms(audio.samples) > 0.02, "audio is (nearly) silent"
    # Trimmed: speech starts and ends within 50 ms of the clip's edges.
    loud = np.flatnonzero(np.abs(audio.samples) > 0.01)
    assert loud[0] < 0.05 * audio.sample_rate
    assert len(audio.samples) - loud[-1] < 0.05 * audio.sample_rate


def test_longer_text_gives_longer_audio(voice: EspeakVoice) -> None:
    short = voice.synthesize(HELLO)
    long = voice.synthesize("안녕하세요. 오늘은 날씨가 정말 좋네요. 산책하러 가실래요?")
    assert long.duration > 2.5 * short.duration


def test_is_deterministic_whatever_the_seed_or_what_was_spoken_before(voice: EspeakVoice) -> None:
    # espeak-ng carries pitch-flutter and noise state from one utterance to the next unless reloaded.
    first = voice.synthesize(HELLO, SynthesisConfig(seed=1))
    second = voice.synthesize(HELLO, SynthesisConfig(seed=2))
    voice.synthesize("오늘은 날씨가 정말 좋네요. 산책하러 가실래요?", SynthesisConfig(length_scale=1.3))
    third = voice.synthesize(HELLO)
    np.testing.assert_array_equal(first.samples, second.samples)
    np.testing.assert_array_equal(first.samples, third.samples)


def test_length_scale_slows_down_and_speeds_up(voice: EspeakVoice) -> None:
    normal = voice.synthesize(HELLO).duration
    slow = voice.synthesize(HELLO, SynthesisConfig(length_scale=2.0)).duration
    fast = voice.synthesize(HELLO, SynthesisConfig(length_scale=0.5)).duration
    assert slow > 1.6 * normal
    assert fast < 0.75 * normal
    # The rate is set per call, not left behind for the next one.
    assert voice.synthesize(HELLO).duration == normal


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_rejects_nonsense_length_scale(voice: EspeakVoice, bad: float) -> None:
    with pytest.raises(InvalidInputError):
        voice.synthesize(HELLO, SynthesisConfig(length_scale=bad))


@pytest.mark.parametrize("text", ["", "   ", "hello world 123", "...!?", "🙂 ✓ #", "\u3164", "ㆆ ㆍ"])
def test_nothing_speakable_raises(voice: EspeakVoice, text: str) -> None:
    with pytest.raises(NothingToSayError):
        voice.synthesize(text)


def test_unspeakable_characters_are_dropped_with_a_warning(
    voice: EspeakVoice, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="forv_tts.voices.espeak"):
        mixed = voice.synthesize("hello 안녕하세요 🙂")
    assert "dropping" in caplog.text and "'h'" in caplog.text
    np.testing.assert_array_equal(mixed.samples, voice.synthesize(HELLO).samples)


@pytest.mark.parametrize("extra", ["~", "\u3164", "ㆆ", "\ua960"])
def test_characters_espeak_reads_in_english_are_dropped(voice: EspeakVoice, extra: str) -> None:
    # Passed through, espeak says "tilde" / "Chinese letter" in English, or nothing at all.
    with_extra = voice.synthesize(f"안녕{extra}하세요{extra}")
    np.testing.assert_array_equal(with_extra.samples, voice.synthesize("안녕 하세요").samples)


def test_nothing_reaches_stdout() -> None:
    # stdout carries wav bytes for `say -o -`: the library must not write to it, even on odd input.
    proc = _run_python(
        """
        import logging, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
        from forv_tts.voices.espeak import EspeakVoice, builtin_info, text_to_phonemes
        from forv_tts.config import SynthesisConfig
        from forv_tts.errors import NothingToSayError
        v = EspeakVoice(builtin_info())
        for text in ["안녕하세요", "ㅋㅋㅋ 가나다!?", "abc 안녕 123", "읽고 먹는 국물", "[[a]] <b>안녕</b>"]:
            v.synthesize(text)
            v.synthesize(text, SynthesisConfig(length_scale=2.0))
            text_to_phonemes(text)
        try:
            v.synthesize("hello")
        except NothingToSayError:
            pass
        sys.stderr.write("done\\n")
        """
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert "done" in proc.stderr.decode()
    assert proc.stdout == b""


def _synthesize_in_worker(text: str) -> bytes:
    return EspeakVoice(builtin_info()).synthesize(text).samples.tobytes()


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_works_in_multiprocessing_workers(voice: EspeakVoice, method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available on this platform")
    expected = voice.synthesize(HELLO).samples.tobytes()  # the parent has the library loaded before forking
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        results = pool.map(_synthesize_in_worker, [HELLO] * 4, chunksize=1)
    assert results == [expected] * 4


def test_fork_while_another_thread_synthesises(voice: EspeakVoice) -> None:
    # A child forked mid-synthesis must neither deadlock on the lock nor inherit a half-done utterance.
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("fork is not available on this platform")
    expected = voice.synthesize(HELLO).samples.tobytes()
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            voice.synthesize("오늘은 날씨가 정말 좋네요. 산책하러 가실래요?")

    thread = threading.Thread(target=hammer, daemon=True)
    thread.start()
    try:
        ctx = multiprocessing.get_context("fork")
        for _ in range(5):
            with ctx.Pool(1) as pool:
                assert pool.apply_async(_synthesize_in_worker, (HELLO,)).get(timeout=30) == expected
    finally:
        stop.set()
        thread.join(timeout=30)


def test_threads_share_the_library_safely(voice: EspeakVoice) -> None:
    texts = [HELLO, "감사합니다", "반갑습니다"] * 4
    expected = {t: voice.synthesize(t).samples.tobytes() for t in set(texts)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: voice.synthesize(t).samples.tobytes(), texts))
    assert results == [expected[t] for t in texts]


def test_load_voice_returns_the_cached_builtin_voice() -> None:
    loaded = load_voice(builtin_info())
    assert isinstance(loaded, EspeakVoice)
    assert loaded is load_voice(builtin_info())
    assert loaded.info.id == BUILTIN_VOICE_ID


def test_espeak_does_not_nasalise_spelled_hangul() -> None:
    # The finding in docs/builtin-voice.md: espeak reads 국물 with a [k] coda, the pronounced form 궁물 with
    # [ŋ], so the pipeline feeds it g2pk output. If an espeak upgrade fixes this, revisit that decision.
    spelled, pronounced = text_to_phonemes("국물"), text_to_phonemes("궁물")
    assert "ŋ" not in spelled
    assert "ŋ" in pronounced
    assert text_to_phonemes("좋아요") == text_to_phonemes("조아요")  # ㅎ-deletion it does handle


def test_default_path_speaks_our_phonemes_not_espeaks_letter_rules(voice: EspeakVoice) -> None:
    # issue 19: the judge understood phoneme input better than espeak reading Hangul itself.
    assert TUNING.phonemes
    assert espeak_input("안녕하세요.") == "[[an'nj@Nhasejo]]."
    assert espeak_input("아빠 사과") == "[[ap'p-a 'sagwa]]"  # a long closure, a high start after ㅅ
    # Bare jamo have no phoneme spelling: that sentence goes to espeak as text.
    assert espeak_input("ㅋㅋ 가나") == "ㅋㅋ 가나"
    as_text = dataclasses.replace(TUNING, phonemes=False)
    spoken = voice.synthesize("감사함니다.").samples
    with _tuning(as_text):
        assert not np.array_equal(voice.synthesize("감사함니다.").samples, spoken)


def test_phoneme_input_is_deterministic_across_processes(voice: EspeakVoice) -> None:
    text = "오늘 날씨가 정말 존네요. 산채카러 가실래요?"
    here = voice.synthesize(text).samples.tobytes()
    proc = _run_python(
        f"""
        import sys
        from forv_tts.voices.espeak import EspeakVoice, builtin_info
        sys.stdout.buffer.write(EspeakVoice(builtin_info()).synthesize({text!r}).samples.tobytes())
        """
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == here


def test_voice_attributes_go_through_an_overlay_in_the_cache_dir(
    voice: EspeakVoice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORV_TTS_CACHE_DIR", str(tmp_path))
    plain = dataclasses.replace(TUNING, voice="", variant="")  # a variant's formants would win
    with _tuning(plain):
        reference = voice.synthesize(HELLO).samples
    # lang/ko's own pitch line again: same voice, so the same samples, read from the overlay.
    with _tuning(dataclasses.replace(plain, voice="pitch 80 118")):
        assert np.array_equal(voice.synthesize(HELLO).samples, reference)
    overlays = list(tmp_path.glob("espeak-ng-data-*"))
    assert len(overlays) == 1 and (overlays[0] / "voices" / "forv-ko").is_file()
    with _tuning(dataclasses.replace(plain, voice="formant 1 80 100 100")):
        assert not np.array_equal(voice.synthesize(HELLO).samples, reference)


def test_voice_attributes_win_over_the_variants_own(
    voice: EspeakVoice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # m5 sets `intonation 2` itself; read after the voice file, it would undo ours (it did, once).
    monkeypatch.setenv("FORV_TTS_CACHE_DIR", str(tmp_path))
    text = "오늘 날씨가 정말 존네요. 어디 가세요?"
    m5 = dataclasses.replace(TUNING, voice="", variant="m5")
    with _tuning(m5):
        reference = voice.synthesize(text).samples
    with _tuning(dataclasses.replace(m5, voice="intonation 3")):
        changed = voice.synthesize(text).samples
    assert not np.array_equal(changed, reference)
    overlays = list(tmp_path.glob("espeak-ng-data-*"))
    assert len(overlays) == 1
    variant = overlays[0] / "voices" / "!v" / "forv"
    assert variant.read_text(encoding="utf-8").splitlines()[-1] == "intonation 3"
    assert (overlays[0] / "voices" / "!v" / "m3").exists()  # the other variants are still there


def _wheel_phoneme_files(dest: Path) -> Path:
    import espeakng_loader

    dest.mkdir()
    for name in ("phondata", "phonindex", "phontab"):
        (dest / name).write_bytes((Path(espeakng_loader.get_data_path()) / name).read_bytes())
    return dest


def test_compiled_phoneme_files_go_into_the_overlay(
    voice: EspeakVoice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bench/espeak_phondata.py's output replaces the wheel's three files; the wheel's own bytes
    # through that path must speak exactly as the wheel does.
    monkeypatch.setenv("FORV_TTS_CACHE_DIR", str(tmp_path / "cache"))
    reference = voice.synthesize(HELLO).samples
    phondata = _wheel_phoneme_files(tmp_path / "ph")
    with _tuning(dataclasses.replace(TUNING, phondata=str(phondata))):
        assert np.array_equal(voice.synthesize(HELLO).samples, reference)
    (overlay,) = (tmp_path / "cache").glob("espeak-ng-data-*")
    for name in ("phondata", "phonindex", "phontab"):
        assert (overlay / name).is_file() and not (overlay / name).is_symlink()
    assert (overlay / "ko_dict").is_symlink()  # everything else still the wheel's


def test_the_overlay_speaks_with_the_given_phoneme_files(tmp_path: Path) -> None:
    # An empty phontab crashes libespeak-ng (it trusts its data): proof that the overlay's copy is
    # what the library reads, and a new directory's content gets an overlay of its own.
    good = _wheel_phoneme_files(tmp_path / "good")
    bad = _wheel_phoneme_files(tmp_path / "bad")
    (bad / "phontab").write_bytes(b"")
    code = textwrap.dedent(
        """
        import dataclasses, os, sys
        from forv_tts.voices import espeak
        espeak.TUNING = dataclasses.replace(espeak.TUNING, phondata=sys.argv[1])
        print(espeak.EspeakVoice(espeak.builtin_info()).synthesize("안녕하세요").samples.size)
        """
    )
    env = {**os.environ, "FORV_TTS_CACHE_DIR": str(tmp_path / "cache")}

    def speak(phondata: Path) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-c", code, str(phondata)], capture_output=True, env=env, timeout=120
        )

    ok = speak(good)
    assert ok.returncode == 0 and int(ok.stdout) > 0, ok.stderr
    assert speak(bad).returncode != 0
    assert len(list((tmp_path / "cache").glob("espeak-ng-data-*"))) == 2


def test_lead_and_tail_silence(voice: EspeakVoice) -> None:
    plain = dataclasses.replace(TUNING, lead_ms=20, tail_ms=20)
    padded = dataclasses.replace(TUNING, lead_ms=300, tail_ms=500)
    with _tuning(plain):
        short = voice.synthesize(HELLO).samples
    with _tuning(padded):
        long = voice.synthesize(HELLO).samples
    rate = SAMPLE_RATE
    assert long.size - short.size == round(0.28 * rate) + round(0.48 * rate)
    assert not np.any(long[: round(0.28 * rate)])  # digital silence beyond espeak's own edge
    assert not np.any(long[-round(0.48 * rate) :])
    assert np.array_equal(long[round(0.28 * rate) : round(0.28 * rate) + short.size], short)
    loud = np.flatnonzero(np.abs(short) > 0.01)
    assert loud[0] <= round(0.02 * rate) and short.size - 1 - loud[-1] <= round(0.02 * rate)


@contextlib.contextmanager
def _tuning(tuning: Tuning) -> Iterator[None]:
    saved = espeak_module.TUNING
    espeak_module.TUNING = tuning
    try:
        yield
    finally:
        espeak_module.TUNING = saved


@pytest.mark.parametrize("syllable", ["가", "뛟"])  # the plainest and one of the longest in phonemes
def test_an_overlong_word_is_spoken_not_a_crash(syllable: str) -> None:
    # libespeak-ng overruns its per-word phoneme array past ~104 syllables of 가 and the process dies with
    # SIGSEGV, so this runs in a child: a crash is a return code here, not a lost test run.
    proc = _run_python(
        f"""
        from forv_tts.voices.espeak import EspeakVoice, builtin_info
        audio = EspeakVoice(builtin_info()).synthesize({syllable * 300!r} + " 끝")
        print(audio.duration)
        """
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-500:])
    assert float(proc.stdout) > 20  # the whole word spoken, not dropped


def test_split_long_words_keeps_every_character() -> None:
    word = "가" * (espeak_module.MAX_WORD_CHARS * 2 + 3)
    pieces = espeak_module.split_long_words(["짧은", word])
    assert pieces[0] == "짧은" and "".join(pieces[1:]) == word
    assert [len(p) for p in pieces[1:]] == [espeak_module.MAX_WORD_CHARS] * 2 + [3]


def test_say_speaks_an_overlong_word_through_the_console_script(tmp_path: Path) -> None:
    script = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert script, "the forv-tts console script is not installed next to this interpreter"
    out = tmp_path / "long.wav"
    proc = subprocess.run(
        [script, "say", "가" * 200, "-o", str(out)], capture_output=True, cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-500:])  # 139 before: SIGSEGV
    assert out.stat().st_size > 44 + SAMPLE_RATE * 2 * 10
