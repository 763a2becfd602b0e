"""Audio → the bytes of one response format: mp3, opus (Ogg), aac (ADTS), flac, wav or pcm.

    data = encode(audio, "mp3")                              # a whole file
    for part in encode_stream(chunks, "opus"):               # one part per sentence, playable as it comes
        out.write(part)

The formats are OpenAI's six (`FORMATS`), each with its content type (`CONTENT_TYPES`) and file
extension. Who encodes what, and why:

- wav and pcm are 16-bit PCM written here (`forv_tts.audio`): nothing to encode.
- mp3, opus and flac go through libsndfile (the `soundfile` wheel bundles it with LAME, libopus and
  libFLAC in ~4 MB), which is in the speak-only install. Opus takes 8/12/16/24/48 kHz only, so the
  voices' 22,050 Hz is resampled to 24 kHz with soxr first (`soxr`, streaming and sample-exact).
- aac needs FFmpeg's encoder: PyAV (the `av` wheel, ~100 MB installed with its own FFmpeg) is the
  `aac` extra (`pip install "forv-tts[aac]"`), so that an install that only speaks stays light;
  without it, asking for aac raises `EncoderMissingError` naming the extra.

A streamed format is playable as it arrives: every part is whole frames (MP3 frames, Ogg pages, FLAC
frames, ADTS frames). An encoder holds back a little audio (LAME's look-ahead, FLAC's 4,096-sample
blocks), so the last tens of milliseconds of a sentence arrive with the next part. What a whole file
rewrites at its start when it is closed (the LAME tag that tells a decoder the encoder's delay, FLAC's
STREAMINFO length) cannot be rewritten in a stream: a streamed mp3 decodes ~50 ms longer than the
whole one (LAME's delay and padding), a streamed flac says "length unknown", as the formats allow.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from forv_tts.audio import Audio, AudioChunk, stream_wav_header, to_pcm16, wav_bytes
from forv_tts.errors import EncoderMissingError, UnknownFormatError

log = logging.getLogger(__name__)

#: OpenAI's `response_format` values, in its documentation's order.
FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
#: The default where a client sets none (OpenAI's).
DEFAULT_FORMAT = "mp3"

CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",  # Ogg-encapsulated Opus (RFC 7845) is registered as audio/ogg
    "aac": "audio/aac",  # ADTS frames
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",  # raw 16-bit little-endian mono at the voice's rate (as the service always sent)
}
EXTENSIONS = {"mp3": ".mp3", "opus": ".opus", "aac": ".aac", "flac": ".flac", "wav": ".wav", "pcm": ".pcm"}
#: Extensions that name a format besides `EXTENSIONS`' own.
_ALIASES = {".ogg": "opus", ".oga": "opus", ".wave": "wav", ".raw": "pcm", ".adts": "aac"}

OPUS_RATE = 24000  # the Opus rate nearest above the voices' 22,050 Hz
AAC_EXTRA = "aac"
FEED_S = 0.25  # a streamed sentence is encoded (and handed on) in pieces this long


def check_format(name: str) -> str:
    """`name` as one of `FORMATS` (case-insensitive), else `UnknownFormatError` listing the six."""
    fmt = str(name).strip().lower()
    if fmt not in FORMATS:
        raise UnknownFormatError(
            f"unknown audio format {name!r}: use one of {', '.join(FORMATS)}",
            field="format",
            value=name,
            formats=list(FORMATS),
        )
    return fmt


def format_for_path(path: str | Path) -> str | None:
    """The format a file name's extension names (`clip.mp3` → mp3, `.ogg` → opus), else None."""
    suffix = Path(path).suffix.lower()
    for fmt, ext in EXTENSIONS.items():
        if suffix == ext:
            return fmt
    return _ALIASES.get(suffix)


def available(fmt: str) -> bool:
    """True when this install can encode `fmt` (aac needs the `aac` extra)."""
    if check_format(fmt) != "aac":
        return True
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def require(fmt: str) -> str:
    """`check_format(fmt)`, and `EncoderMissingError` (naming the extra) when this install cannot encode it.

    Front ends call it before any synthesis, so a missing encoder never costs a synthesised clip.
    """
    fmt = check_format(fmt)
    if not available(fmt):
        raise _missing(fmt)
    return fmt


def _missing(fmt: str) -> EncoderMissingError:
    return EncoderMissingError(
        f'{fmt} needs the "{AAC_EXTRA}" extra (PyAV): pip install "forv-tts[{AAC_EXTRA}]", '
        f"or ask for one of {', '.join(f for f in FORMATS if f != fmt)}",
        format=fmt,
        extra=AAC_EXTRA,
    )


class _Encoder(Protocol):
    def feed(self, samples: npt.NDArray[np.float32]) -> bytes: ...
    def finish(self) -> bytes: ...


class _Sink:
    """A write-only file for libsndfile that hands on what is appended and ignores rewrites.

    libsndfile seeks back when it closes a file (the LAME tag, FLAC's STREAMINFO); bytes already handed
    on cannot change, so a rewrite of them is dropped: what the stream sent stays a valid file.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0
        self._sent = 0

    def write(self, data: Any) -> int:
        data = bytes(data)
        end = self._pos + len(data)
        if end > len(self._buf):
            self._buf.extend(b"\0" * (end - len(self._buf)))
        self._buf[self._pos : end] = data
        self._pos = end
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._buf)}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        return b""

    def take(self) -> bytes:
        """The bytes appended since the last call."""
        out = bytes(self._buf[self._sent :])
        self._sent = len(self._buf)
        return out


_SNDFILE = {"mp3": ("MP3", "MPEG_LAYER_III"), "opus": ("OGG", "OPUS"), "flac": ("FLAC", "PCM_16")}


class _SndfileEncoder:
    """mp3 / opus / flac through libsndfile, streamed (`_Sink`) or into a seekable buffer (whole)."""

    def __init__(self, fmt: str, sample_rate: int, whole: bool) -> None:
        import soundfile

        self._rate_in = int(sample_rate)
        self._resampler: Any = None
        rate = self._rate_in
        if fmt == "opus" and rate not in (8000, 12000, 16000, 24000, 48000):
            import soxr

            rate = OPUS_RATE
            self._resampler = soxr.ResampleStream(self._rate_in, rate, 1, dtype="float32")
        container, subtype = _SNDFILE[fmt]
        self._whole = whole
        self._file: Any = io.BytesIO() if whole else _Sink()
        # mp3: constant 64 kb/s at 22,050 Hz (level 0.6); libsndfile's default VBR gave 14-43 kb/s,
        # audibly poor for speech. Opus and FLAC keep libsndfile's defaults (~40 kb/s for speech; level 5).
        mp3 = {"compression_level": 0.6, "bitrate_mode": "CONSTANT"} if fmt == "mp3" else {}
        self._sf = soundfile.SoundFile(
            self._file, mode="w", samplerate=rate, channels=1, format=container, subtype=subtype, **mp3
        )

    def feed(self, samples: npt.NDArray[np.float32]) -> bytes:
        x = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
        if self._resampler is not None:
            x = self._resampler.resample_chunk(x)
        if len(x):
            self._sf.write(x)
        if self._whole:
            return b""
        self._sf.flush()
        return self._file.take()

    def finish(self) -> bytes:
        if self._resampler is not None:
            tail = self._resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            if len(tail):
                self._sf.write(tail)
        self._sf.close()
        return self._file.getvalue() if self._whole else self._file.take()


class _AacEncoder:
    """AAC-LC in ADTS frames through PyAV (FFmpeg's native encoder), one frame per 1,024 samples."""

    def __init__(self, sample_rate: int) -> None:
        try:
            import av
        except ImportError:
            raise _missing("aac") from None
        self._av = av
        self._out = io.BytesIO()
        self._container = av.open(self._out, mode="w", format="adts")
        self._stream = self._container.add_stream("aac", rate=int(sample_rate))
        self._stream.layout = "mono"
        self._rate = int(sample_rate)
        self._pts = 0
        self._pending = np.zeros(0, dtype=np.float32)
        self._frame = 1024

    def _taken(self) -> bytes:
        data = self._out.getvalue()
        self._out.seek(0)
        self._out.truncate()
        return data

    def _encode(self, block: npt.NDArray[np.float32] | None) -> None:
        if block is None:
            packets = self._stream.encode(None)
        else:
            frame = self._av.AudioFrame.from_ndarray(block.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = self._rate
            frame.pts = self._pts
            self._pts += len(block)
            packets = self._stream.encode(frame)
        self._container.mux(packets)

    def feed(self, samples: npt.NDArray[np.float32]) -> bytes:
        x = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
        buf = np.concatenate([self._pending, x])
        whole = len(buf) // self._frame * self._frame
        for start in range(0, whole, self._frame):
            self._encode(np.ascontiguousarray(buf[start : start + self._frame]))
        self._pending = buf[whole:]
        return self._taken()

    def finish(self) -> bytes:
        if len(self._pending):
            self._encode(np.ascontiguousarray(self._pending))
            self._pending = np.zeros(0, dtype=np.float32)
        self._encode(None)
        self._container.close()
        return self._taken()


class _PcmEncoder:
    """wav (a header of unknown length when streamed) or raw 16-bit PCM."""

    def __init__(self, fmt: str, sample_rate: int) -> None:
        self._header = stream_wav_header(sample_rate) if fmt == "wav" else b""

    def feed(self, samples: npt.NDArray[np.float32]) -> bytes:
        head, self._header = self._header, b""
        return head + to_pcm16(samples)

    def finish(self) -> bytes:
        head, self._header = self._header, b""
        return head


def stream_encoder(fmt: str, sample_rate: int) -> _Encoder:
    """An encoder for a stream of `fmt`: `feed(samples)` gives the bytes ready so far, `finish()` the rest."""
    fmt = check_format(fmt)
    if fmt == "aac":
        return _AacEncoder(sample_rate)
    if fmt in ("wav", "pcm"):
        return _PcmEncoder(fmt, sample_rate)
    return _SndfileEncoder(fmt, sample_rate, whole=False)


def encode(audio: Audio, fmt: str) -> bytes:
    """The whole clip as one file of `fmt` (mp3 with its LAME tag, flac with its length)."""
    fmt = check_format(fmt)
    if fmt == "wav":
        return wav_bytes(audio)
    if fmt == "pcm":
        return to_pcm16(audio.samples)
    rate = audio.sample_rate
    encoder: _Encoder = _AacEncoder(rate) if fmt == "aac" else _SndfileEncoder(fmt, rate, whole=True)
    return encoder.feed(audio.samples) + encoder.finish()


def encode_stream(chunks: Iterable[AudioChunk], fmt: str) -> Generator[bytes, None, None]:
    """Each sentence (after the pause before it) encoded as soon as it is made, then the encoder's tail.

    Decoded, the parts give the whole clip (`synthesis.synthesize`'s samples, give or take the codec's
    delay). A part may be empty where the encoder holds everything back; nothing is read from `chunks`
    before the caller asks for the first part. Closing this generator closes `chunks` (stops synthesis).
    """
    fmt = check_format(fmt)
    encoder: _Encoder | None = None
    it = iter(chunks)
    try:
        for chunk in it:
            if encoder is None:
                encoder = stream_encoder(fmt, chunk.sample_rate)
            samples = np.concatenate([chunk.silence_before(), np.asarray(chunk.samples, dtype=np.float32)])
            # Fed a quarter second at a time: the first bytes go out after encoding 0.25 s, not a sentence.
            step = max(1, round(FEED_S * chunk.sample_rate))
            for start in range(0, len(samples), step):
                part = encoder.feed(samples[start : start + step])
                if part:
                    yield part
            log.debug("streamed sentence %d", chunk.index + 1)
        if encoder is not None:
            tail = encoder.finish()
            if tail:
                yield tail
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()
