"""Coqui's `AudioProcessor` arithmetic a voice needs at inference (mel scaling, interpolation, peak level).

Small numpy copies (torch only inside `interpolate_mel`, so the ONNX engine runs them without torch):
constructing the real processor imports librosa/numba (about a second); tests prove these equal to
coqui's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from forv_tts.audio import Audio
from forv_tts.errors import SynthesisError

if TYPE_CHECKING:
    import torch  # only `interpolate_mel` needs it: the ONNX engine uses the rest without torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioSettings:
    """The part of a Coqui `audio` config that touches synthesis (BaseAudioConfig defaults)."""

    sample_rate: int = 22050
    num_mels: int = 80
    signal_norm: bool = True
    symmetric_norm: bool = True
    max_norm: float = 4.0
    clip_norm: bool = True
    min_level_db: float = -100
    ref_level_db: float = 20
    do_trim_silence: bool = True
    trim_db: float = 45
    spec_gain: float = 20
    log_func: str = "np.log10"
    stats_path: str | None = None
    #: Samples per mel frame (`frame_shift_ms` wins when set, as in AudioProcessor): the word times.
    #: Exports written before it was recorded read Coqui's default.
    hop_length: int = 256

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AudioSettings:
        from forv_tts.voices.audio_pair import mel_settings

        audio = config.get("audio") or {}
        fields = cls.__dataclass_fields__
        values = {k: v for k, v in audio.items() if k in fields}
        values["hop_length"] = int(mel_settings(config)["hop_length"])
        return cls(**values)

    def normalize(self, spec: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """dB mel → model range; same float32 arithmetic as `AudioProcessor.normalize`."""
        s = spec.copy()
        if not self.signal_norm:
            return s
        max_norm = float(self.max_norm)
        s -= self.ref_level_db
        s_norm = (s - self.min_level_db) / (-self.min_level_db)
        if self.symmetric_norm:
            s_norm = ((2 * max_norm) * s_norm) - max_norm
            if self.clip_norm:
                s_norm = np.clip(s_norm, -max_norm, max_norm)
            return s_norm
        s_norm = max_norm * s_norm
        if self.clip_norm:
            s_norm = np.clip(s_norm, 0, max_norm)
        return s_norm

    def denormalize(self, spec: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Model range → dB mel; same float32 arithmetic as `AudioProcessor.denormalize`."""
        s = spec.copy()
        if not self.signal_norm:
            return s
        max_norm = float(self.max_norm)
        if self.symmetric_norm:
            if self.clip_norm:
                s = np.clip(s, -max_norm, max_norm)
            s = ((s + max_norm) * -self.min_level_db / (2 * max_norm)) + self.min_level_db
            return s + self.ref_level_db
        if self.clip_norm:
            s = np.clip(s, 0, max_norm)
        s = (s * -self.min_level_db / max_norm) + self.min_level_db
        return s + self.ref_level_db

    def endpoint_search(self, min_silence_sec: float = 0.8) -> tuple[int, int, float]:
        """`find_endpoint`'s window and hop (samples) and its silence threshold: the one place they are
        derived, for the whole-clip search and the causal one (`Finisher`)."""
        window_length = int(self.sample_rate * min_silence_sec)
        hop_length = int(window_length / 4)
        exponent = -self.trim_db / self.spec_gain
        threshold = np.power(10, exponent) if self.log_func == "np.log10" else np.exp(exponent)
        return window_length, hop_length, threshold

    def find_endpoint(self, wav: npt.NDArray[np.float32], min_silence_sec: float = 0.8) -> int:
        """End of speech before trailing silence, as `AudioProcessor.find_endpoint`."""
        window_length, hop_length, threshold = self.endpoint_search(min_silence_sec)
        for x in range(hop_length, len(wav) - window_length, hop_length):
            if np.max(wav[x : x + window_length]) < threshold:
                return x + hop_length
        return len(wav)


def interpolate_mel(mel: torch.Tensor, scale: float) -> torch.Tensor:
    """[C, T] → [1, C, T*scale]: `TTS.vocoder.utils.generic_utils.interpolate_vocoder_input`."""
    import torch

    spec = mel.unsqueeze(0).unsqueeze(0)
    out = torch.nn.functional.interpolate(
        spec, scale_factor=[1.0, scale], recompute_scale_factor=True, mode="bilinear", align_corners=False
    )
    return out.squeeze(0)


def peak_normalize(wav: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Scale like coqui's `save_wav`: peak to full scale, never amplifying by more than 100x."""
    peak = float(np.max(np.abs(wav))) if wav.size else 0.0
    return (wav * (1.0 / max(0.01, peak))).astype(np.float32)


def quote_text(text: str, limit: int = 40) -> str:
    """`text` for a one-line message: repr'd, cut at `limit` characters with an ellipsis."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


#: A vocoder output up to this long (seconds, padding included) is levelled by its own peak, as
#: coqui's `save_wav` does; a longer one by the peak of its first `GAIN_WINDOW_S` (`Finisher`).
WHOLE_S = 6.0
GAIN_WINDOW_S = 1.0
#: A louder sample later in a long sentence lowers the gain over this long a ramp before it.
RAMP_S = 0.02


def gain_window(total: int, sample_rate: int) -> int:
    """Samples whose peak sets a sentence's level: all of a vocoder output of up to `WHOLE_S`
    (`total` samples), else its first `GAIN_WINDOW_S`."""
    return total if total <= round(WHOLE_S * sample_rate) else round(GAIN_WINDOW_S * sample_rate)


class Finisher:
    """Trims and levels a vocoder's output as it arrives, each sample decided once, for streaming.

    The finishing is coqui's (`find_endpoint`'s trailing-silence trim, then peak to full scale), made
    causal so that a sentence can be played before it is all vocoded and a stream's samples are still
    exactly the clip's: the same rule decides both, whatever the blocks. Trimming only concerns the
    end: a sample is final once a window of loud audio follows it or the trim point is found, so only
    the tail is held back. The level is `1 / max(0.01, peak)` with the peak of the first `window`
    samples (`gain_window`: the whole output up to `WHOLE_S`, so such sentences are exactly today's);
    a sample louder than every one before it lowers the gain to its own `1 / peak` (never raised
    again), reached by a straight ramp over the `ramp` samples before it so that nothing clips and the
    change is not a click. Samples are emitted once `ramp` samples after them are known.
    """

    def __init__(
        self,
        settings: AudioSettings,
        window: int,
        *,
        member: str = "",
        text: str = "",
        ramp: int | None = None,
    ) -> None:
        self.settings = settings
        self.member, self.text = member, text
        self.window = max(1, int(window))
        self.ramp = max(1, round(RAMP_S * settings.sample_rate) if ramp is None else int(ramp))
        self._silence, self._hop, self._threshold = settings.endpoint_search()  # find_endpoint's
        self._wav = np.zeros(0, np.float32)
        self._candidate = self._hop  # the first trim point not yet ruled out
        self._end: int | None = None  # where trimming cuts, once known
        self._gain = np.zeros(0, np.float64)  # 1 / max(0.01, running peak) of each kept sample known
        self._peak: np.float32 | None = None  # the running peak of the kept samples gained so far
        self._emitted = 0

    @property
    def received(self) -> int:
        """Samples of vocoder output fed so far."""
        return len(self._wav)

    def feed(self, block: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Take the next block of raw vocoder output; return the finished samples it made final."""
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        if not np.isfinite(block).all():
            raise invalid_signal(self.member, self.text)
        self._wav = np.concatenate([self._wav, block]) if self._wav.size else block
        self._scan(final=False)
        return self._emit()

    def finish(self) -> npt.NDArray[np.float32]:
        """The remaining finished samples, once all the output was fed (an output trimmed to nothing
        is an error)."""
        self._scan(final=True)
        rest = self._emit()
        if self._emitted == 0:
            raise empty_signal(self.member, self.text)
        return rest

    def _scan(self, *, final: bool) -> None:
        """Advance the trim point search (`find_endpoint`, one candidate at a time)."""
        wav, n = self._wav, len(self._wav)
        if not self.settings.do_trim_silence:
            self._end = n if final else None
            return
        while self._end is None:
            x = self._candidate
            if x + self._silence < n:  # the whole window is known (and is one find_endpoint checks)
                if np.max(wav[x : x + self._silence]) < self._threshold:
                    self._end = x + self._hop
                else:
                    self._candidate += self._hop
                continue
            if final:  # no candidate left
                self._end = n
            elif x < n and np.max(wav[x:n]) >= self._threshold:  # a loud sample already rules it out
                self._candidate += self._hop
                continue
            break

    def _kept(self) -> int:
        """Samples known to survive the trim."""
        n = len(self._wav)
        return self._end if self._end is not None else min(self._candidate + self._hop, n)

    def _emit(self) -> npt.NDArray[np.float32]:
        """The samples made final since the last call (none before the level is decided)."""
        kept = self._kept()
        whole = self._end is not None
        if not whole and kept < self.window:
            return np.zeros(0, np.float32)  # the level is not decided yet
        self._extend_gain(kept)
        upto = kept if whole else kept - self.ramp
        if upto <= self._emitted:
            return np.zeros(0, np.float32)
        start, self._emitted = self._emitted, upto
        return self._scaled(start, upto)

    def _extend_gain(self, kept: int) -> None:
        """`_gain` for every kept sample: 1 / max(0.01, running peak), the peak starting as the first
        `window` kept samples' (float64, as Python computes `1.0 / max(0.01, peak)`)."""
        done = len(self._gain)
        if kept <= done:
            return
        if self._peak is None:
            self._peak = np.float32(np.max(np.abs(self._wav[: min(self.window, kept)])))
        peak = np.maximum.accumulate(np.maximum(np.abs(self._wav[done:kept]), self._peak))
        self._peak = np.float32(peak[-1])
        gain = 1.0 / np.maximum(0.01, peak.astype(np.float64))
        self._gain = np.concatenate([self._gain, gain]) if done else gain

    def _scaled(self, start: int, end: int) -> npt.NDArray[np.float32]:
        """Samples [start, end) times their gain: the running-peak gain, lowered by the ramp before
        each later drop (gains known up to `end + ramp`)."""
        gain = self._gain
        g = gain[start:end].copy()
        stop = min(end + self.ramp, len(gain))
        drops = np.nonzero(gain[start + 1 : stop] < gain[start : stop - 1])[0] + start + 1
        for s in drops.tolist():
            lo, hi = max(start, s - self.ramp), min(end, s)
            if lo >= hi:
                continue
            a, b = gain[s - 1], gain[s]
            t = np.arange(lo, hi, dtype=np.float64)
            part = g[lo - start : hi - start]
            np.minimum(part, b + (a - b) * (s - t) / self.ramp, out=part)
        return (self._wav[start:end] * g.astype(np.float32)).astype(np.float32, copy=False)


def finish_signal(
    wav: npt.NDArray[np.float32], tts_audio: AudioSettings, member: str, text: str, sample_rate: int
) -> Audio:
    """A vocoder's output as the clip both engines return: checked (finite, not empty), trimmed as the
    acoustic model's audio settings say, and levelled as coqui's `save_wav` scales it, causally for a
    long sentence (`Finisher`, `gain_window`): what a stream of the same output gives, sample for sample."""
    finisher = Finisher(tts_audio, gain_window(len(wav), sample_rate), member=member, text=text)
    return Audio(np.concatenate([finisher.feed(wav), finisher.finish()]), sample_rate)


def invalid_signal(member: str, text: str) -> SynthesisError:
    """The error for a vocoder output with NaN or infinite samples."""
    return SynthesisError(
        f"member {member} produced an invalid signal (NaN or infinite samples) for "
        f"{quote_text(text)}: its vocoder weights are damaged or untrained; run `forv-tts check`"
    )


def empty_signal(member: str, text: str) -> SynthesisError:
    """The error for a vocoder output trimmed to nothing."""
    return SynthesisError(f"member {member} produced an empty signal for {quote_text(text)}")


def timed(
    audio: Audio, owners: list[int], durations: Any, words: int, raw_samples: int, frames: int, hop: int
) -> Audio:
    """`audio` with its words' times (`Audio.words`) from the frames Glow-TTS gave each token.

    A mel frame is `hop` samples; the vocoder's output (`raw_samples`, before trimming) is the
    decoder's `frames` plus the replicate padding HiFi-GAN adds on both sides (`inference_padding`),
    so frame f starts at pad + f * hop. Where that does not add up (an export that recorded no hop
    and used another), the output's samples per frame are used, unpadded.
    """
    import dataclasses

    from forv_tts.timing import word_spans

    pad = (raw_samples - frames * hop) / 2
    if pad < 0 or pad != int(pad) or pad % hop:
        pad, hop_s = 0.0, raw_samples / max(frames, 1)
    else:
        hop_s = float(hop)
    rate = audio.sample_rate
    spans = word_spans(
        owners, np.asarray(durations).reshape(-1), words, hop_s / rate, audio.duration, pad / rate
    )
    return dataclasses.replace(audio, words=spans)
