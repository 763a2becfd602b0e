"""forv_tts.timing: sentence and word times from the voices, mapped to the written words; captions.

A member's word times are checked against the durations its Glow-TTS encoder computes (run here
through coqui's own modules); the built-in voice's against its audio (each word sounds, the pauses are
silent); captions are parsed by webvtt-py and srt (libraries nobody here wrote) and each cue's
boundaries are checked to fall in the pauses between sentences.
"""

from __future__ import annotations

import io
import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import forv_tts
from forv_tts import timing
from forv_tts.audio import Audio

TEXT = "3/4까지 010-1234-5678로 전화 주세요. KTX 표가 3장에 15,000원이에요! 오늘은 날씨가 정말 좋네요."
LONG = "이 문장은 아주 길어서 자막 하나에 다 들어가지 않을 것 같은데 어떻게 나뉘는지 한번 봅시다. 짧은 문장."


def _rms(audio: Audio, start: float, end: float) -> float:
    a, b = round(start * audio.sample_rate), round(end * audio.sample_rate)
    seg = audio.samples[a:b].astype(np.float64)
    return float(np.sqrt(np.mean(seg**2))) if seg.size else 0.0


def test_written_words_are_mapped_through_normalisation() -> None:
    audio, sentences = timing.synthesize_timed(TEXT, forv_tts.load_voice(None))
    assert [s.text for s in sentences] == [
        "3/4까지 010-1234-5678로 전화 주세요.",
        "KTX 표가 3장에 15,000원이에요!",
        "오늘은 날씨가 정말 좋네요.",
    ]
    first, second, _ = sentences
    assert [(w.text, w.spoken) for w in first.words] == [
        ("3/4까지", "사뭘 사 일까지"),
        ("010-1234-5678로", "공일공 이리삼사 오육칠팔로"),
        ("전화", "전화"),
        ("주세요.", "주세요."),
    ]
    assert [w.text for w in second.words] == ["KTX", "표가", "3장에", "15,000원이에요!"]
    assert not any(s.estimated for s in sentences)  # espeak-ng's word events, not estimates
    assert sentences[-1].end == pytest.approx(audio.duration)


def test_the_built_in_voices_words_sound_where_it_says_and_pauses_are_silent() -> None:
    audio, sentences = timing.synthesize_timed(TEXT, forv_tts.load_voice(None))
    peak = float(np.abs(audio.samples).max())
    for prev, nxt in itertools.pairwise(sentences):
        assert nxt.start - prev.end == pytest.approx(0.25, abs=1e-3)
        assert _rms(audio, prev.end, nxt.start) < 1e-4  # the pause between sentences
    for s in sentences:
        starts = [w.start for w in s.words]
        assert starts == sorted(starts) and s.start <= starts[0] and s.words[-1].end <= s.end + 1e-9
        for w in s.words:
            assert w.end > w.start
            assert _rms(audio, w.start, w.end) > 0.02 * peak, w


def test_a_members_word_times_are_the_durations_its_model_computed(voice_dir: Path) -> None:
    torch = pytest.importorskip("torch")
    voice = forv_tts.load_voice("2", voice_dir=voice_dir, engine="torch")
    sentence = "안녕하세요 반갑습니다."
    audio = voice.synthesize(sentence, forv_tts.SynthesisConfig(seed=5))
    ids, _dropped, owners = voice.tokenizer.encode_words(sentence)  # type: ignore[attr-defined]
    # coqui's own encoder: the durations Glow-TTS computed for these tokens.
    glow = voice.glow  # type: ignore[attr-defined]
    with torch.inference_mode():
        x = torch.tensor([ids])
        _m, _s, o_dur_log, x_mask = glow.encoder(x, torch.tensor([len(ids)]), g=None)
        w = (torch.exp(o_dur_log) - 1) * x_mask * voice.length_scale  # type: ignore[attr-defined]
        frames = torch.clamp_min(torch.ceil(w), 1)[0, 0].numpy()
    assert voice.zero_length_tokens is False  # type: ignore[attr-defined]  # the min-one-frame rule
    # A frame is the vocoder's hop: HiFi-GAN upsamples each mel frame by the product of its factors.
    config = json.loads(Path(str(voice.info.vocoder_config)).read_text())
    per_frame = math.prod(config["generator_model_params"]["upsample_factors"]) / audio.sample_rate
    assert audio.words is not None and len(audio.words) == 2
    ends = np.cumsum(frames)
    for word in range(2):
        tokens = [i for i, o in enumerate(owners) if o == word]
        assert "".join(voice.tokenizer.symbols[ids[i]] for i in tokens)  # type: ignore[attr-defined]
        start, end = audio.words[word]
        # HiFi-GAN's replicate padding comes first (coqui's `inference_padding` frames).
        pad = voice.vocoder.inference_padding * per_frame  # type: ignore[attr-defined]
        assert start == pytest.approx(
            pad + (ends[tokens[0]] - frames[tokens[0]]) * per_frame, abs=1e-6
        )  # float32 frames: far below a sample
        assert end == pytest.approx(
            min(pad + ends[tokens[-1]] * per_frame, audio.duration), abs=1e-6
        )  # float32 frames: far below a sample
    # The space between the words is its own (blank and space) tokens' frames.
    assert audio.words[1][0] - audio.words[0][1] > 0


def test_the_onnx_engine_gives_the_torch_engines_word_times(voice_dir: Path) -> None:
    config = forv_tts.SynthesisConfig(seed=11)
    text = "안녕하세요 반갑습니다. 오늘 날씨가 좋네요!"
    _, torch_times = timing.synthesize_timed(
        text, forv_tts.load_voice("1", voice_dir, engine="torch"), config
    )
    _, onnx_times = timing.synthesize_timed(text, forv_tts.load_voice("1", voice_dir, engine="onnx"), config)
    assert [s.to_dict() for s in onnx_times] == [s.to_dict() for s in torch_times]
    assert not any(s.estimated for s in onnx_times)


def test_map_words_merges_what_a_rewrite_spans_and_refuses_counts_that_do_not_add_up() -> None:
    rewrites = [{"start": 0, "end": 9, "reading": "만 오천 원"}]
    assert timing.map_words("15,000 원이요", rewrites, ["마", "노처", "눠니요"]) == [
        ("15,000 원이요", [0, 1, 2])
    ]
    assert timing.map_words("사과 - 배", [], ["사과", "배"]) == [("사과", [0]), ("-", []), ("배", [1])]
    assert timing.map_words("사과 배", [], ["사과"]) is None


def _parse_vtt(text: str) -> list[Any]:
    webvtt = pytest.importorskip("webvtt")
    return list(webvtt.from_buffer(io.StringIO(text)))


def test_captions_parse_and_fall_in_the_pauses() -> None:
    srt_lib = pytest.importorskip("srt")
    audio, sentences = timing.synthesize_timed(TEXT + " " + LONG, forv_tts.load_voice(None))
    vtt = _parse_vtt(timing.to_webvtt(sentences))
    subs = list(srt_lib.parse(timing.to_srt(sentences)))
    assert len(vtt) == len(subs) >= len(sentences) + 1  # the long sentence takes two cues
    for cue, sub in zip(vtt, subs, strict=True):
        assert cue.text == sub.content
        assert cue.start.replace(".", ",") == srt_lib.timedelta_to_srt_timestamp(sub.start)
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= timing.LINE_CHARS or " " not in line for line in lines), lines
    ends = {round(s.end, 3) for s in sentences}
    starts = {round(s.start, 3) for s in sentences}
    boundaries = 0
    for cue, nxt in itertools.pairwise(subs):
        end, start = cue.end.total_seconds(), nxt.start.total_seconds()
        assert start >= end - 1e-3
        if round(end, 3) in ends:  # a sentence's last cue: the next starts after the pause
            assert round(start, 3) in starts
            assert _rms(audio, end, start) < 1e-4
            boundaries += 1
    assert boundaries == len(sentences) - 1
    # The written words, not the pronunciation.
    assert "15,000원이에요!" in " ".join(c.text for c in vtt)


def test_caption_formats_by_extension() -> None:
    assert timing.caption_format("a.SRT") == "srt" and timing.caption_format("b.vtt") == "vtt"
    from forv_tts.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        timing.caption_format("c.txt")
