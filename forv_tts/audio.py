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
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # numpy is imported where samples are made: the service's API writes headers only
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
    `normalize_s` and `synthesis_s` are what this sentence cost (reading the text; the voice), for
    streams that report where their first sound's wait went.

    From `iter_synthesize(..., parts=True)` a long sentence may come in several chunks of the same
    `index`: `part` counts them from 0, the `last` one carries the sentence's `words`, only part 0 a
    `pause_before` and a `normalize_s`, and each part's `synthesis_s` is the voice's time up to it.
    """

    samples: npt.NDArray[np.float32]
    sample_rate: int
    index: int
    sentence: str
    pause_before: float = 0.0
    words: WordSpans | None = None  # the voice's word times within this chunk's samples (`Audio.words`)
    normalize_s: float = 0.0
    synthesis_s: float = 0.0
    part: int = 0
    last: bool = True

    @property
    def duration(self) -> float:
        """Length in seconds (without the pause before it)."""
        return len(self.samples) / float(self.sample_rate)

    def silence_before(self) -> npt.NDArray[np.float32]:
        """`pause_before` as samples."""
        import numpy as np

        return np.zeros(round(self.pause_before * self.sample_rate), dtype=np.float32)

    def pcm16(self) -> bytes:
        """The pause before this chunk and its samples as 16-bit PCM: a stream's bytes for it (the
        chunks' bytes one after another are exactly the whole clip's)."""
        return to_pcm16(self.silence_before()) + to_pcm16(self.samples)


def concat(chunks: Sequence[Audio], pause_s: float = DEFAULT_PAUSE_S) -> Audio:
    """Join sentence clips with `pause_s` seconds of silence between them."""
    import numpy as np

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
    import numpy as np

    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return (np.round(clipped * 32767.0)).astype("<i2").tobytes()


UNKNOWN_SIZE = 0xFFFFFFFF


def wav_header(sample_rate: int, data_bytes: int | None) -> bytes:
    """The 44-byte header of a 16-bit mono wav holding `data_bytes` of PCM; None writes the sizes as
    0xFFFFFFFF (length not known yet: a stream)."""
    rate = int(sample_rate)
    riff = UNKNOWN_SIZE if data_bytes is None else 36 + data_bytes
    data = UNKNOWN_SIZE if data_bytes is None else data_bytes
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", data)
    )


def stream_wav_header(sample_rate: int) -> bytes:
    """The header of a wav whose length is not known yet (RIFF and data sizes 0xFFFFFFFF): written
    once at the start of a stream, never again."""
    return wav_header(sample_rate, None)


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
    import numpy as np

    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError(f"{path}: expected 16-bit mono wav")
        frames = w.readframes(w.getnframes())
        rate = w.getframerate()
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32767.0
    return Audio(samples, rate)
