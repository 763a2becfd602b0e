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

    def find_endpoint(self, wav: npt.NDArray[np.float32], min_silence_sec: float = 0.8) -> int:
        """End of speech before trailing silence, as `AudioProcessor.find_endpoint`."""
        window_length = int(self.sample_rate * min_silence_sec)
        hop_length = int(window_length / 4)
        exponent = -self.trim_db / self.spec_gain
        threshold = np.power(10, exponent) if self.log_func == "np.log10" else np.exp(exponent)
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


def finish_signal(
    wav: npt.NDArray[np.float32], tts_audio: AudioSettings, member: str, text: str, sample_rate: int
) -> Audio:
    """A vocoder's output as the clip both engines return: checked (finite, not empty), trimmed as the
    acoustic model's audio settings say, and scaled like coqui's `save_wav` (`peak_normalize`)."""
    if not np.isfinite(wav).all():
        raise SynthesisError(
            f"member {member} produced an invalid signal (NaN or infinite samples) for "
            f"{quote_text(text)}: its vocoder weights are damaged or untrained; run `forv-tts check`"
        )
    if tts_audio.do_trim_silence:
        wav = wav[: tts_audio.find_endpoint(wav)]
    if wav.size == 0:
        raise SynthesisError(f"member {member} produced an empty signal for {quote_text(text)}")
    return Audio(peak_normalize(wav), sample_rate)


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
