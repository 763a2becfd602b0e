"""forv_tts.encoding: every format decoded by decoders nobody here wrote (libsndfile, FFmpeg via PyAV).

Each decoded clip has the wav's duration within one frame of its codec (after the fixed priming delay a
format cannot signal: AAC in ADTS, a streamed mp3 without its LAME tag), and is loud where the wav is
loud and quiet in its pauses. The audio is the built-in voice's, really synthesised.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np
import numpy.typing as npt
import pytest

from forv_tts import encoding, synthesis
from forv_tts.audio import Audio, AudioChunk, read_wav
from forv_tts.errors import EncoderMissingError, UnknownFormatError

av = pytest.importorskip("av")  # the aac extra; installed by the test extra
sf = pytest.importorskip("soundfile")

TEXT = "오늘은 날씨가 정말 좋네요. 같이 산책하러 가실래요? 공원에 꽃이 많이 피었어요."
#: Samples per frame, and the priming delay a decoder cannot know (ADTS has no field for it).
FRAME = {"mp3": 576, "opus": 960, "aac": 1024, "flac": 4096, "wav": 1, "pcm": 1}
PRIMING = {"aac": 1024}
#: A streamed mp3 has no LAME tag (it is written last, at the start): the decoder keeps LAME's delay
#: (576 + 529 samples) and decodes the tag's placeholder frame as silence (576).
STREAM_PRIMING = {"aac": 1024, "mp3": 576 + 529 + 576}


@cache
def _chunks() -> tuple[AudioChunk, ...]:
    return tuple(synthesis.iter_synthesize(TEXT, synthesis.load_voice(None)))


def _whole() -> Audio:
    chunks = _chunks()
    parts = [np.concatenate([c.silence_before(), c.samples]) for c in chunks]
    return Audio(np.concatenate(parts).astype(np.float32), chunks[0].sample_rate)


def _decode_av(data: bytes) -> tuple[npt.NDArray[np.float32], int]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
        rate = stream.codec_context.sample_rate
    return np.concatenate(frames).astype(np.float32), rate


def _decode_sf(data: bytes) -> tuple[npt.NDArray[np.float32], int]:
    samples, rate = sf.read(io.BytesIO(data), dtype="float32")
    return samples, rate


def _envelope(x: npt.NDArray[np.float32], rate: int, hop_s: float = 0.02) -> npt.NDArray[np.float64]:
    hop = max(1, round(hop_s * rate))
    n = len(x) // hop
    return np.sqrt(np.mean(np.square(x[: n * hop].astype(np.float64)).reshape(n, hop), axis=1))


def _loud_where_loud(wav: Audio, decoded: npt.NDArray[np.float32], rate: int, skip: int = 0) -> None:
    """The decoded clip's 20 ms loudness (after its `skip` priming samples) follows the wav's: loud where
    it is loud, quiet in its pauses."""
    a, b = _envelope(wav.samples, wav.sample_rate), _envelope(decoded[skip:], rate)
    best = -1.0
    for lag in range(0, 3):
        n = min(len(a), len(b) - lag)
        r = float(np.corrcoef(a[:n], b[lag : lag + n])[0, 1])
        best = max(best, r)
    assert best > 0.97, best
    loud = a > 0.5 * a.max()
    quiet = a < 1e-4
    assert loud.any() and quiet.any()
    n = min(len(a), len(b))
    assert np.median(b[:n][loud[:n]]) > 0.5 * np.median(a[loud])
    assert np.median(b[:n][quiet[:n]]) < 0.05 * np.median(a[loud])


def _assert_duration(fmt: str, wav: Audio, decoded: int, rate: int, priming: dict[str, int]) -> None:
    frame_s = FRAME[fmt] / rate
    got = (decoded - priming.get(fmt, 0)) / rate
    assert abs(got - wav.duration) <= frame_s, (fmt, got, wav.duration)


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac"])
def test_whole_files_decode_to_the_wav(fmt: str) -> None:
    wav = _whole()
    data = encoding.encode(wav, fmt)
    decoded, rate = _decode_av(data)
    _assert_duration(fmt, wav, len(decoded), rate, PRIMING)
    _loud_where_loud(wav, decoded, rate, PRIMING.get(fmt, 0))
    if fmt != "aac":  # libsndfile reads mp3, Ogg Opus and flac as well
        samples, rate2 = _decode_sf(data)
        _assert_duration(fmt, wav, len(samples), rate2, {})
        _loud_where_loud(wav, samples, rate2)


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav"])
def test_streams_decode_to_the_wav_and_every_part_is_playable(fmt: str) -> None:
    wav = _whole()
    parts = list(encoding.encode_stream(_chunks(), fmt))
    data = b"".join(parts)
    decoded, rate = _decode_av(data)
    _assert_duration(fmt, wav, len(decoded), rate, STREAM_PRIMING)
    _loud_where_loud(wav, decoded, rate, STREAM_PRIMING.get(fmt, 0))
    # Playable as it arrives: what came up to the end of the first sentence decodes on its own, to
    # most of that sentence (the encoder keeps its look-ahead back).
    first = _chunks()[0]
    cut, fed = 0, 0
    for i, part in enumerate(parts):
        fed += len(part)
        if fed * 1.0 >= len(data) * first.duration / wav.duration:
            cut = i + 1
            break
    head, head_rate = _decode_av(b"".join(parts[:cut]))
    assert len(head) / head_rate > 0.5 * first.duration


def test_wav_and_pcm_are_the_samples_and_a_wav_stream_has_one_header() -> None:
    wav = _whole()
    whole = encoding.encode(wav, "wav")
    assert encoding.encode(wav, "pcm") == whole[44:]
    streamed = b"".join(encoding.encode_stream(_chunks(), "wav"))
    assert streamed[44:] == whole[44:] and streamed.count(b"RIFF") == 1
    assert b"".join(encoding.encode_stream(_chunks(), "pcm")) == whole[44:]


def test_formats_names_extensions_and_content_types(tmp_path: object) -> None:
    assert encoding.FORMATS == ("mp3", "opus", "aac", "flac", "wav", "pcm")
    assert encoding.DEFAULT_FORMAT == "mp3"
    assert encoding.CONTENT_TYPES == {
        "mp3": "audio/mpeg",
        "opus": "audio/ogg",
        "aac": "audio/aac",
        "flac": "audio/flac",
        "wav": "audio/wav",
        "pcm": "audio/pcm",
    }
    assert encoding.format_for_path("a/clip.MP3") == "mp3"
    assert encoding.format_for_path("clip.ogg") == "opus"
    assert encoding.format_for_path("clip.txt") is None
    assert encoding.check_format(" FLAC ") == "flac"
    with pytest.raises(UnknownFormatError) as info:
        encoding.check_format("ogg")
    assert info.value.code == "unknown_format"
    assert info.value.fields["formats"] == list(encoding.FORMATS)
    assert "mp3, opus, aac, flac, wav, pcm" in str(info.value)


def test_aac_without_pyav_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "av", None)  # as if the aac extra were not installed
    assert not encoding.available("aac") and encoding.available("mp3")
    with pytest.raises(EncoderMissingError) as info:
        encoding.require("aac")
    assert info.value.code == "encoder_missing" and info.value.fields["extra"] == "aac"
    assert 'pip install "forv-tts[aac]"' in str(info.value)
    with pytest.raises(EncoderMissingError):
        encoding.encode(_whole(), "aac")


def test_closing_a_stream_stops_the_chunks() -> None:
    made: list[int] = []

    def chunks():  # type: ignore[no-untyped-def]
        for c in _chunks():
            made.append(c.index)
            yield c

    stream = encoding.encode_stream(chunks(), "mp3")
    next(stream)
    stream.close()
    assert made == [0]


def test_read_wav_roundtrip_of_a_flac(tmp_path: object) -> None:
    from pathlib import Path

    wav = _whole()
    path = Path(str(tmp_path)) / "x.wav"
    path.write_bytes(encoding.encode(wav, "wav"))
    back = read_wav(path)
    flac, _ = _decode_sf(encoding.encode(wav, "flac"))
    assert np.abs(flac - back.samples).max() < 1e-4  # flac is lossless over the 16-bit samples
