"""The public API: lazy exports, load / synthesize / iter_synthesize, SynthesisConfig."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import forv_tts


def test_import_is_light_and_every_name_resolves() -> None:
    code = (
        "import sys, forv_tts\n"
        "heavy = ('torch', 'numpy', 'g2pk', 'TTS', 'google', 'typer', 'rich')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
        "print(forv_tts.normalize('3명이 왔어요.'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, normalised = out.splitlines()
    assert loaded == "[]"
    assert normalised.startswith("['세 명")
    for name in forv_tts.__all__:
        assert getattr(forv_tts, name) is not None, name
    with pytest.raises(AttributeError):
        _ = forv_tts.no_such_name  # type: ignore[attr-defined]


def test_every_error_the_library_raises_is_exported() -> None:
    from forv_tts.errors import error_classes
    from forv_tts.text.lexicon import LexiconError

    library = [
        c for c in error_classes() if not c.__module__.startswith(("forv_tts.cli", "forv_tts.service"))
    ]
    for cls in {*library, LexiconError}:
        assert getattr(forv_tts, cls.__name__) is cls, cls.__name__


def test_config_checks_its_values_once() -> None:
    assert forv_tts.SynthesisConfig(length_scale=1).length_scale == 1.0
    for bad in (0, 10.5, float("nan"), "x"):
        with pytest.raises(forv_tts.InvalidInputError):
            forv_tts.SynthesisConfig(length_scale=bad)  # type: ignore[arg-type]
    with pytest.raises(forv_tts.InvalidInputError):
        forv_tts.SynthesisConfig(seed=True)
    assert forv_tts.SynthesisConfig(seed=np.int64(3)).seed == 3


def test_builtin_voice_synthesize_and_stream_agree() -> None:
    voice = forv_tts.load_voice(None)
    assert voice is forv_tts.load_voice("builtin")  # the registry loads once
    text = "안녕하세요. 오늘은 날씨가 좋네요!"
    audio = forv_tts.synthesize(text, voice)
    chunks = list(forv_tts.iter_synthesize(text, voice))
    assert [c.index for c in chunks] == [0, 1]
    assert chunks[0].pause_before == 0 and chunks[1].pause_before > 0
    joined = np.concatenate([part for c in chunks for part in (c.silence_before(), c.samples)])
    np.testing.assert_array_equal(joined, audio.samples)
    assert audio.sample_rate == chunks[0].sample_rate
    assert forv_tts.normalize("3명이 왔어요.")[0].startswith("세 명")  # also once the text stage is loaded


def test_iter_synthesize_hook_stops_before_a_sentence_and_chunks_say_what_they_cost() -> None:
    voice = forv_tts.load_voice(None)
    text = "첫 문장입니다. 둘째 문장입니다. 셋째 문장입니다."
    asked: list[tuple[int, int]] = []

    def before(index: int, total: int) -> bool:
        asked.append((index, total))
        return index < 1

    stream = forv_tts.iter_synthesize(text, voice, before=before)
    first = next(stream)
    assert first.index == 0 and first.synthesis_s > 0 and first.normalize_s > 0
    with pytest.raises(forv_tts.CancelledError) as err:
        next(stream)
    assert err.value.code == "cancelled" and err.value.fields == {"index": 1, "total": 3}
    assert asked == [(0, 3), (1, 3)]  # the third sentence was never read


def test_member_voice_with_config(voice_dir: Path) -> None:
    voice = forv_tts.load_voice("2", voice_dir=voice_dir)
    config = forv_tts.SynthesisConfig(seed=5)
    a = forv_tts.synthesize("안녕하세요.", voice, config)
    b = forv_tts.synthesize("안녕하세요.", voice, config)
    np.testing.assert_array_equal(a.samples, b.samples)
    slow = forv_tts.synthesize("안녕하세요.", voice, forv_tts.SynthesisConfig(seed=5, length_scale=2.0))
    assert slow.duration > 1.5 * a.duration


LONG = (
    "오늘 오후 서울 시청 앞 광장에서는 시민 수천 명이 모인 가운데 올해로 스무 번째를 맞는 가을 음악 축제가 "
    "화려하게 막을 올렸습니다. 짧은 문장입니다."
)


def test_a_long_sentence_streams_in_parts_that_are_the_clip_with_the_same_timings(voice_dir: Path) -> None:
    from forv_tts import timing

    voice = forv_tts.load_voice("1", voice_dir=voice_dir, engine="onnx")
    voice._threads = 2  # type: ignore[attr-defined]  # windows need a second thread
    config = forv_tts.SynthesisConfig(seed=3)
    audio = forv_tts.synthesize(LONG, voice, config)
    whole = list(forv_tts.iter_synthesize(LONG, voice, config))
    parts = list(forv_tts.iter_synthesize(LONG, voice, config, parts=True))
    assert [c.index for c in whole] == [0, 1] and whole[0].duration > 6.0  # longer than dsp.WHOLE_S
    assert parts[0].index == 0 and parts[-1].index == 1
    first = [c for c in parts if c.index == 0]
    assert len(first) > 1 and [c.part for c in first] == list(range(len(first)))
    assert [c.last for c in first] == [False] * (len(first) - 1) + [True]
    assert first[0].synthesis_s < first[-1].synthesis_s and first[0].words is None
    assert all(c.pause_before == 0 for c in parts if c.part)
    assert [c.pause_before > 0 for c in parts if c.part == 0] == [False, True]
    joined = np.concatenate([x for c in parts for x in (c.silence_before(), c.samples)])
    np.testing.assert_array_equal(joined, audio.samples)  # a stream is the clip, sample for sample
    assert b"".join(c.pcm16() for c in parts) == b"".join(c.pcm16() for c in whole)
    by_sentence, by_part = timing.Timer(), timing.Timer()
    expected = [by_sentence.add(c).to_dict() for c in whole]
    got = [t.to_dict() for t in (by_part.add_part(c) for c in parts) if t is not None]
    assert got == expected


def test_errors_are_typed() -> None:
    voice = forv_tts.load_voice(None)
    with pytest.raises(forv_tts.NoTextError):
        forv_tts.synthesize("  ", voice)
    with pytest.raises(forv_tts.NothingToSayError) as err:
        next(forv_tts.iter_synthesize("🙂🙂", voice))
    assert err.value.code == "nothing_to_say"
    with pytest.raises(forv_tts.UnknownMemberError) as unknown:
        forv_tts.load_voice("99", voice_dir=Path(__file__).parent)
    assert unknown.value.code in ("unknown_member", "voice_dir_not_found")


def test_list_voices(voice_dir: Path) -> None:
    ids = [v.id for v in forv_tts.list_voices(voice_dir)]
    assert ids[0] == "builtin" and {"1", "2"} <= set(ids)
