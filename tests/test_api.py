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


@pytest.fixture
def no_lexicon_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`tmp_path` as the working directory (so ./voice_model is ours) with no lexicon or voice-dir
    settings from outside."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORV_TTS_LEXICON", raising=False)
    monkeypatch.delenv("FORV_TTS_VOICE_DIR", raising=False)
    return tmp_path


def test_a_members_text_reads_its_own_voice_dirs_lexicon(
    voice_dir: Path, no_lexicon_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`load_voice("2", voice_dir=mine)` speaks with mine/lexicon.tsv, as `say --voice-dir mine` does,
    not the default directory's; `synthesize`, `iter_synthesize`, `normalize` and `run_item` agree."""
    from forv_tts.jobs.item import Destination, run_item

    mine = no_lexicon_settings / "mine"
    mine.mkdir()
    for kind in ("glow-tts", "hifigan-v2"):
        (mine / kind).symlink_to(voice_dir / kind)
    (mine / "lexicon.tsv").write_text("코끼리\t바나나\n", encoding="utf-8")
    default = no_lexicon_settings / "default"
    default.mkdir()
    (default / "lexicon.tsv").write_text("코끼리\t사과\n", encoding="utf-8")
    monkeypatch.setenv("FORV_TTS_VOICE_DIR", str(default))

    voice = forv_tts.load_voice("2", voice_dir=mine)
    assert voice.info.voice_dir == mine
    text, spoken = "코끼리가 왔어요.", forv_tts.normalize("바나나가 왔어요.", lexicon=None)
    config = forv_tts.SynthesisConfig(seed=5)
    assert [c.sentence for c in forv_tts.iter_synthesize(text, voice, config)] == spoken
    assert forv_tts.normalize(text, voice_dir=mine) == spoken
    assert forv_tts.normalize(text) == forv_tts.normalize("사과가 왔어요.", lexicon=None)  # the default dir
    audio = forv_tts.synthesize(text, voice, config)
    said = forv_tts.synthesize("바나나가 왔어요.", voice, forv_tts.SynthesisConfig(seed=5, lexicon=None))
    np.testing.assert_array_equal(audio.samples, said.samples)
    item = run_item(text, member="2", voice_dir=mine, config=config, destination=Destination(mine))
    assert item.sentences == spoken
    unread = forv_tts.synthesize(text, voice, forv_tts.SynthesisConfig(seed=5, lexicon=None))
    assert unread.samples.shape != audio.samples.shape or not np.array_equal(unread.samples, audio.samples)


def test_library_calls_read_forv_tts_lexicon_and_the_default_voice_dir(
    no_lexicon_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The built-in voice (default voice directory ./voice_model) and $FORV_TTS_LEXICON, merged as the
    CLI merges them (the variable's file wins), and an edit applies to the next call."""
    voice = forv_tts.load_voice(None)
    (no_lexicon_settings / "voice_model").mkdir()
    (no_lexicon_settings / "voice_model" / "lexicon.tsv").write_text(
        "forv\t가나\nGCS\t지씨에스\n", encoding="utf-8"
    )
    words = no_lexicon_settings / "words.tsv"
    words.write_text("forv\t포브\n", encoding="utf-8")
    monkeypatch.setenv("FORV_TTS_LEXICON", str(words))

    text = "forv GCS 입니다."
    spoken = forv_tts.normalize("포브 지씨에스 입니다.", lexicon=None)
    assert forv_tts.normalize(text) == spoken
    assert [c.sentence for c in forv_tts.iter_synthesize(text, voice)] == spoken
    audio = forv_tts.synthesize(text, voice)
    said = forv_tts.synthesize("포브 지씨에스 입니다.", voice, forv_tts.SynthesisConfig(lexicon=None))
    np.testing.assert_array_equal(audio.samples, said.samples)
    assert forv_tts.normalize(text, lexicon=None) != spoken

    words.write_text("forv\t다라마\n", encoding="utf-8")
    assert forv_tts.normalize(text) == forv_tts.normalize("다라마 지씨에스 입니다.", lexicon=None)
    words.write_text("forv 다라마\n", encoding="utf-8")
    with pytest.raises(forv_tts.LexiconError, match=r"words\.tsv:1"):
        forv_tts.synthesize(text, voice)


def test_config_lexicon_is_a_lexicon_auto_or_none() -> None:
    assert forv_tts.SynthesisConfig().lexicon == "auto"
    with pytest.raises(forv_tts.InvalidInputError, match="load_lexicon"):
        forv_tts.SynthesisConfig(lexicon="words.tsv")  # type: ignore[arg-type]
