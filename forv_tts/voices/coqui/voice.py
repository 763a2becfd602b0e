"""A member's voice: a Coqui Glow-TTS acoustic model plus a HiFi-GAN v2 vocoder.

The networks are coqui-tts 0.28's own classes (`GlowTTS`, `HifiganGenerator`) built from the member's
config files. Around them we do what coqui's `Synthesizer` does, with three deliberate differences:

* Tokenisation is ours, because coqui 0.28 mis-reads the team's checkpoints: it builds the symbol
  table of a Coqui TTS 0.x config the new way (sorted, punctuation appended: shuffled ids or a
  "duplicate characters" crash), and its `basic_cleaners` apply Unicode NFC, which recomposes
  conjoining jamo into syllables that are all out of vocabulary. We rebuild the exact 0.x table for
  legacy configs, the exact 0.28 table for modern ones, and never run coqui's cleaners.
* Mel (de)normalisation, sample-rate interpolation and silence trimming are small numpy/torch copies
  of `AudioProcessor` (constructing the real one imports librosa/numba, about a second); tests prove
  them equal to coqui's. Unlike coqui, a vocoder trained on other mel settings (sample rate, hop,
  mels, fmin/fmax) is refused instead of interpolated (`forv_tts.voices.audio_pair`), and a text that
  yields no frames or a NaN signal is a `SynthesisError` naming the member, never a torch message.
* Glow-TTS durations follow the rule the member was trained with (`duration_rule`, decided from its
  files by `forv_tts.voices.duration_rule`), not the config's generation.
* The sampling noise comes from a per-call `torch.Generator`, so a seed reproduces a clip regardless of
  what ran before, and the global RNG is left alone.

Output level: coqui's `save_wav`, which produced every wav the old system delivered, scales each clip
so its peak is full scale (`wav * 32767 / max(0.01, max|wav|)`). `synthesize` returns samples scaled
the same way (`wav / max(0.01, max|wav|)`), so our 16-bit wavs match the old ones to within one LSB
(coqui truncates to int16, `forv_tts.audio` rounds).
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from forv_tts.audio import Audio
from forv_tts.config import DEFAULT_CONFIG, SynthesisConfig
from forv_tts.errors import SynthesisError, VoiceLoadError
from forv_tts.voices import audio_pair, duration_rule
from forv_tts.voices.base import FORMAT_LEGACY, VoiceInfo
from forv_tts.voices.coqui import weight_cache
from forv_tts.voices.coqui.dsp import AudioSettings, finish_signal, interpolate_mel, quote_text, timed
from forv_tts.voices.coqui.networks import (
    _LEGACY_NOISE_SCALE,
    TooFewFrames,
    _adopted_pages,
    _extract_generator,
    _extract_model,
    _load_into,
    _release_replaced,
    _SkipRandomInit,
    _store_inverse,
    build_glow,
    build_hifigan,
    glow_infer,
)
from forv_tts.voices.coqui.tokenizer import tokenizer_for
from forv_tts.voices.coqui.vocoder import _channels_last, vocode_channels_last
from forv_tts.voices.layout import config_format, read_config_json

log = logging.getLogger(__name__)


class CoquiVoice:
    """A loaded member voice (implements `forv_tts.voices.layout.Voice`)."""

    info: VoiceInfo
    sample_rate: int
    from_weight_cache: bool  # both networks' weights came from `forv_tts.voices.coqui.weight_cache`
    #: `duration_rule.ZERO_FRAMES` or `duration_rule.MIN_ONE_FRAME`, and why (see that module).
    duration_rule: str
    duration_rule_evidence: str

    def __init__(
        self,
        info: VoiceInfo,
        *,
        remove_weight_norm: bool = True,
        fast_convolutions: bool = True,
    ) -> None:
        """Load both networks now (this is what `load_voice` times and caches).

        `remove_weight_norm` folds weight norm into plain weights as coqui does at eval time (faster;
        tests show the output is unchanged to float precision). `fast_convolutions` runs the vocoder on
        channels-last activations, its upsampling layers as ordinary convolutions (`_channels_last`):
        2-3x faster, samples within ~1e-6 (tests/test_perf_equivalence.py). False keeps coqui's own
        arithmetic bit for bit.
        """
        if info.missing:
            raise VoiceLoadError(f"member {info.id} is incomplete: missing {', '.join(info.missing)}")
        paths = (info.checkpoint, info.config, info.vocoder_checkpoint, info.vocoder_config)
        if any(p is None for p in paths):
            raise VoiceLoadError(f"member {info.id}: descriptor lacks checkpoint or config paths")
        assert info.checkpoint and info.config and info.vocoder_checkpoint and info.vocoder_config
        self.info = info
        t0 = time.perf_counter()
        glow_cfg = self._read_config(info.config)
        voc_cfg = self._read_config(info.vocoder_config)
        self.format = config_format(glow_cfg)
        try:
            self.tokenizer = tokenizer_for(glow_cfg, self.format)
        except (ValueError, TypeError) as exc:
            raise VoiceLoadError(f"{info.config}: {exc}") from None
        if info.problems:
            raise VoiceLoadError(f"member {info.id}: {info.problems[0]}")
        mismatch = audio_pair.mismatch_problem(glow_cfg, voc_cfg)
        if mismatch:
            raise VoiceLoadError(f"member {info.id}: {mismatch}")
        if info.duration_rule is None:
            decision = duration_rule.decide(glow_cfg, info.checkpoint, info.config.parent)
            self.duration_rule, self.duration_rule_evidence = decision.rule, decision.evidence
        else:
            self.duration_rule = info.duration_rule
            self.duration_rule_evidence = info.duration_rule_evidence or ""
        self.tts_audio = AudioSettings.from_config(glow_cfg)
        self.vocoder_audio = AudioSettings.from_config(voc_cfg)
        for cfg_path, audio in ((info.config, self.tts_audio), (info.vocoder_config, self.vocoder_audio)):
            if audio.stats_path:
                raise VoiceLoadError(
                    f"{cfg_path}: mean-variance mel statistics (audio.stats_path) are not supported"
                )
        default_noise = _LEGACY_NOISE_SCALE if self.format == FORMAT_LEGACY else 0.0
        self.noise_scale = float(glow_cfg.get("inference_noise_scale", default_noise))
        self.length_scale = float(glow_cfg.get("length_scale", 1.0))
        self.sample_rate = int(self.vocoder_audio.sample_rate)

        try:
            # Both are coqui's (untyped) classes, hence Any: we call their own methods on them. Their
            # random initialisation is skipped: the strict load below overwrites every parameter.
            with _SkipRandomInit():
                self.glow = build_glow(glow_cfg, self.tokenizer.num_chars)
                self.vocoder = build_hifigan(voc_cfg)
        except (ValueError, TypeError, KeyError) as exc:
            raise VoiceLoadError(f"member {info.id}: cannot build the networks from config ({exc})") from None

        # Model-only weights from the cache when it is current (0.01 s), else from the checkpoint.
        glow_state = weight_cache.load_state(info.checkpoint, "glow", _extract_model)
        _load_into(self.glow, glow_state, info.checkpoint)
        voc_state = weight_cache.load_state(info.vocoder_checkpoint, "hifigan", _extract_generator)
        _load_into(self.vocoder, voc_state, info.vocoder_checkpoint)
        self.from_weight_cache = glow_state.from_cache and voc_state.from_cache

        self.glow.eval()
        self.vocoder.eval()
        for p in (*self.glow.parameters(), *self.vocoder.parameters()):
            p.requires_grad_(False)
        if remove_weight_norm:
            # What coqui's load_checkpoint(eval=True) does: GlowTTS.store_inverse (inverts the 1x1
            # convs, removes the coupling WaveNets' weight norm) and the vocoder's remove_weight_norm.
            _store_inverse(self.glow, glow_state)
            self.vocoder.remove_weight_norm()
            _release_replaced(self.vocoder, voc_state, _adopted_pages(voc_state))
        self.channels_last = fast_convolutions and _channels_last(self.vocoder)
        del glow_state, voc_state
        log.debug("member %s (%s) ready in %.2f s", info.id, self.format, time.perf_counter() - t0)

    @property
    def zero_length_tokens(self) -> bool:
        """True when a token predicted at <= 0 frames gets none (Coqui TTS <= 0.3.1's rule)."""
        return self.duration_rule == duration_rule.ZERO_FRAMES

    @staticmethod
    def _read_config(path: Path) -> dict[str, Any]:
        try:
            return read_config_json(path)
        except (OSError, ValueError) as exc:
            raise VoiceLoadError(f"cannot read config {path}: {exc}") from None

    def tokenize(self, text: str) -> list[int]:
        """Token ids for `text`; unspeakable characters are dropped with one logged warning."""
        return self.tokenizer.ids_for(text, self.info.id)

    def synthesize(self, text: str, config: SynthesisConfig | None = None) -> Audio:
        """Speak one normalised sentence; `config.seed` makes it reproducible, `length_scale` > 1 is
        slower (the config checked its range when it was made)."""
        config = config or DEFAULT_CONFIG
        ids, owners = self.tokenizer.owned_ids_for(text, self.info.id)
        durations: list[Any] = []
        scale = self.length_scale if config.length_scale is None else config.length_scale
        seed = config.seed
        generator = torch.Generator().manual_seed(secrets.randbits(63) if seed is None else int(seed))
        try:
            with torch.inference_mode():
                mel = glow_infer(
                    self.glow,
                    ids,
                    noise_scale=self.noise_scale,
                    length_scale=scale,
                    generator=generator,
                    zero_length_tokens=self.zero_length_tokens,
                    durations=durations,
                )
                self._check_mel(mel, text)
                wav = self.vocode(mel[0])
        except TooFewFrames as exc:
            rule = f"{self.duration_rule} rule: {self.duration_rule_evidence}"
            raise SynthesisError(
                f"member {self.info.id} produced no audio frames for {quote_text(text)}: its duration "
                f"predictor gave the {exc.tokens} tokens {exc.frames} frames in total ({rule}), fewer "
                f"than the {exc.needed} its decoder needs; the checkpoint may be untrained or the text too "
                "short (run `forv-tts check`)"
            ) from None
        except RuntimeError as exc:
            first = " ".join(str(exc).split())[:160]
            raise SynthesisError(f"member {self.info.id} failed on {quote_text(text)}: {first}") from None
        audio = finish_signal(wav, self.tts_audio, self.info.id, text, self.sample_rate)
        frames, hop = int(mel.shape[-1]), self.tts_audio.hop_length
        return timed(audio, owners, durations[0], len(text.split()), len(wav), frames, hop)

    def _check_mel(self, mel: torch.Tensor, text: str) -> None:
        """Refuse a spectrogram the vocoder cannot turn into speech, naming the cause, not torch's."""
        if not bool(torch.isfinite(mel).all()):
            raise SynthesisError(
                f"member {self.info.id} produced an invalid spectrogram (NaN or infinite) for "
                f"{quote_text(text)}: its Glow-TTS weights are damaged or untrained; run `forv-tts check`"
            )

    def vocode(self, mel: torch.Tensor) -> npt.NDArray[np.float32]:
        """Model mel [C, T] → waveform, as coqui's `Synthesizer._run_vocoder` (no peak scaling)."""
        spec = mel.detach().cpu().numpy()
        spec = self.tts_audio.denormalize(spec)
        voc_in = self.vocoder_audio.normalize(spec)
        scale = self.vocoder_audio.sample_rate / self.tts_audio.sample_rate
        tensor = torch.from_numpy(np.ascontiguousarray(voc_in))
        batch = interpolate_mel(tensor, scale) if scale != 1 else tensor.unsqueeze(0)
        with torch.inference_mode():
            if self.channels_last:
                out = vocode_channels_last(self.vocoder, batch)
            else:
                out = self.vocoder.inference(batch)
        wav: npt.NDArray[np.float32] = out.detach().cpu().numpy().squeeze().astype(np.float32, copy=False)
        return np.atleast_1d(wav)

    def parameter_count(self) -> int:
        """Numbers held by both networks (parameters and buffers), for memory checks."""
        tensors = [*self.glow.state_dict().values(), *self.vocoder.state_dict().values()]
        return sum(t.numel() for t in tensors)
