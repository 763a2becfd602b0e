"""Audio values and wav encoding.

Audio travels between stages as plain float32 samples in [-1, 1] plus a sample rate (`Audio`; one
sentence of a stream is an `AudioChunk`). Wavs are 16-bit PCM mono; writing them to disk is
`forv_tts.storage.local`'s job. A stream of unknown length gets one header whose RIFF and data sizes
are 0xFFFFFFFF (`stream_wav_header`), the convention sox, ffmpeg and aplay read as "until end of file".
"""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

DEFAULT_PAUSE_S = 0.25


#: (start, end) seconds of each word of a sentence within its audio (`forv_tts.timing`).
WordSpans = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at `sample_rate` Hz.

    `words`, where a voice knows them, are the (start, end) seconds of each whitespace-separated word
    of the sentence it spoke (members: the acoustic model's durations; the built-in voice: espeak-ng's
    word events); None for a joined clip or a voice that cannot tell.
    """

    samples: npt.NDArray[np.float32]
    sample_rate: int
    words: WordSpans | None = None

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / float(self.sample_rate)


@dataclass(frozen=True)
class AudioChunk:
    """One sentence of a stream, as it was made: `index` counts the chunks of one call from 0.

    `pause_before` is the silence (seconds) `synthesize` puts before this chunk when it joins them
    (0 for the first): a player that writes it too gets exactly the joined clip's samples.
    """

    samples: npt.NDArray[np.float32]
    sample_rate: int
    index: int
    sentence: str
    pause_before: float = 0.0
    words: WordSpans | None = None  # the voice's word times within this chunk's samples (`Audio.words`)

    @property
    def duration(self) -> float:
        """Length in seconds (without the pause before it)."""
        return len(self.samples) / float(self.sample_rate)

    def silence_before(self) -> npt.NDArray[np.float32]:
        """`pause_before` as samples."""
        return np.zeros(round(self.pause_before * self.sample_rate), dtype=np.float32)


def concat(chunks: Sequence[Audio], pause_s: float = DEFAULT_PAUSE_S) -> Audio:
    """Join sentence clips with `pause_s` seconds of silence between them."""
    if not chunks:
        raise ValueError("concat needs at least one chunk")
    rate = chunks[0].sample_rate
    if any(c.sample_rate != rate for c in chunks):
        raise ValueError("cannot join clips of different sample rates")
    gap = np.zeros(round(pause_s * rate), dtype=np.float32)
    parts: list[npt.NDArray[np.float32]] = []
    for i, chunk in enumerate(chunks):
        if i:
            parts.append(gap)
        parts.append(np.asarray(chunk.samples, dtype=np.float32))
    return Audio(np.concatenate(parts), rate)


def to_pcm16(samples: npt.NDArray[np.floating]) -> bytes:
    """Float samples to little-endian 16-bit PCM, clipped (never wrapped) at full scale."""
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return (np.round(clipped * 32767.0)).astype("<i2").tobytes()


UNKNOWN_SIZE = 0xFFFFFFFF


def stream_wav_header(sample_rate: int) -> bytes:
    """The 44-byte header of a 16-bit mono wav whose length is not known yet (RIFF and data sizes
    0xFFFFFFFF): written once at the start of a stream, never again."""
    rate = int(sample_rate)
    return (
        b"RIFF"
        + struct.pack("<I", UNKNOWN_SIZE)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", UNKNOWN_SIZE)
    )


def write_wav_to(audio: Audio, stream: BinaryIO) -> None:
    """Write a complete 16-bit mono wav to a binary stream."""
    with wave.open(stream, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(audio.sample_rate))
        w.writeframes(to_pcm16(audio.samples))


def wav_bytes(audio: Audio) -> bytes:
    """The wav file as bytes (for stdout and uploads)."""
    buf = io.BytesIO()
    write_wav_to(audio, buf)
    return buf.getvalue()


def read_wav(path: Path) -> Audio:
    """Read a 16-bit mono wav written by `write_wav` (used by tests and batch resume)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError(f"{path}: expected 16-bit mono wav")
        frames = w.readframes(w.getnframes())
        rate = w.getframerate()
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32767.0
    return Audio(samples, rate)
