"""Whether a member's vocoder was trained on the same spectrogram its acoustic model makes.

A HiFi-GAN trained on other mel settings (sample rate, hop, number of mels, mel band edges) than its
Glow-TTS turns that model's output into noise, or speaks at the wrong pitch and speed, without any error
from torch. Coqui's `Synthesizer` silently interpolated across sample rates; we refuse every mismatch,
naming the settings, so the team pairs the right checkpoints. Config-only and torch-free: discovery
(`forv-tts members`) and loading both use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Coqui's BaseAudioConfig defaults for the settings compared (identical in every 0.x release and 0.28).
_DEFAULTS: dict[str, Any] = {
    "sample_rate": 22050,
    "hop_length": 256,
    "frame_shift_ms": None,
    "num_mels": 80,
    "mel_fmin": 0.0,
    "mel_fmax": None,
}


def mel_settings(config: Mapping[str, Any]) -> dict[str, float]:
    """The settings that define a model's mel frames, as AudioProcessor resolves them.

    `frame_shift_ms`, when set, overrides `hop_length` (`AudioProcessor._stft_parameters`); an unset
    `mel_fmax` means the Nyquist frequency (librosa's mel filter default).
    """
    audio = config.get("audio")
    audio = audio if isinstance(audio, Mapping) else {}

    def get(key: str) -> Any:
        value = audio.get(key)
        return _DEFAULTS[key] if value is None else value

    rate = float(get("sample_rate"))
    shift = audio.get("frame_shift_ms")
    hop = float(int(float(shift) / 1000.0 * rate)) if shift is not None else float(get("hop_length"))
    fmax = audio.get("mel_fmax")
    return {
        "sample_rate": rate,
        "hop_length": hop,
        "num_mels": float(get("num_mels")),
        "mel_fmin": float(get("mel_fmin")),
        "mel_fmax": rate / 2 if fmax is None else float(fmax),
    }


def _show(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def mismatches(glow_config: Mapping[str, Any], vocoder_config: Mapping[str, Any]) -> list[str]:
    """`"<setting> <glow> vs <vocoder>"` for each mel setting the two configs disagree on (none: [])."""
    try:
        tts, voc = mel_settings(glow_config), mel_settings(vocoder_config)
    except (TypeError, ValueError) as exc:
        return [f"audio settings unreadable ({exc})"]
    return [f"{key} {_show(tts[key])} vs {_show(voc[key])}" for key in tts if tts[key] != voc[key]]


def mismatch_problem(glow_config: Mapping[str, Any], vocoder_config: Mapping[str, Any]) -> str | None:
    """One sentence for `members`, `check` and load errors, or None when the pair agrees."""
    diffs = mismatches(glow_config, vocoder_config)
    if not diffs:
        return None
    return (
        "vocoder does not match the acoustic model (glow-tts vs hifigan-v2: "
        + "; ".join(diffs)
        + "): pair it with a vocoder trained on the same audio settings"
    )
