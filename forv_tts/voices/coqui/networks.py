"""Build coqui-tts 0.28's Glow-TTS and HiFi-GAN networks from a member's configs, load their weights
(from the weight cache or the checkpoint), and run Glow-TTS inference.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from forv_tts.errors import VoiceLoadError
from forv_tts.voices.coqui import checkpoint as ckpt_io
from forv_tts.voices.coqui import weight_cache
from forv_tts.voices.coqui.compat import ensure_coqui_importable, import_coqui

if TYPE_CHECKING:
    from torch import nn

log = logging.getLogger(__name__)


_GLOW_ARCH_KEYS = (
    "use_encoder_prenet",
    "hidden_channels_enc",
    "hidden_channels_dec",
    "hidden_channels_dp",
    "dropout_p_dp",
    "dropout_p_dec",
    "mean_only",
    "out_channels",
    "num_flow_blocks_dec",
    "kernel_size_dec",
    "dilation_rate",
    "num_block_layers",
    "c_in_channels",
    "num_splits",
    "num_squeeze",
    "sigmoid_scale",
    "encoder_type",
    "encoder_params",
    "inference_noise_scale",
    "length_scale",
)
_LEGACY_NOISE_SCALE = 0.33  # GlowTTSConfig.inference_noise_scale default in Coqui TTS 0.x


def build_glow(config: Mapping[str, Any], num_chars: int) -> Any:
    """coqui-tts 0.28 `GlowTTS` for `config`, without its tokenizer or AudioProcessor."""
    import_coqui()
    from TTS.tts.configs.glow_tts_config import GlowTTSConfig
    from TTS.tts.models.glow_tts import GlowTTS

    class _InferenceGlowTTS(GlowTTS):
        # BaseTTS.__init__ builds a TTSTokenizer unless `tokenizer` exists (ours replaces it).
        tokenizer = None

    if config.get("use_speaker_embedding") or config.get("use_d_vector_file"):
        raise ValueError("multi-speaker Glow-TTS models are not supported")
    gcfg = GlowTTSConfig()
    for key in _GLOW_ARCH_KEYS:
        if key in config:
            setattr(gcfg, key, config[key])
    gcfg.num_chars = num_chars
    gcfg.languages = ["ko"]  # silences the "initializing with English" warning; text is ours anyway
    gcfg.audio = None  # BaseTTS only builds an AudioProcessor (librosa, ~1 s) for a BaseAudioConfig
    return _InferenceGlowTTS(gcfg)


def build_hifigan(config: Mapping[str, Any]) -> Any:
    """coqui-tts 0.28 `HifiganGenerator` as `TTS.vocoder.models.setup_generator` builds it."""
    import_coqui()
    from TTS.vocoder.models.hifigan_generator import HifiganGenerator

    name = str(config.get("generator_model", "hifigan_generator")).lower()
    if name != "hifigan_generator":
        raise ValueError(f"vocoder generator {name!r} is not supported (expected hifigan_generator)")
    params = dict(config.get("generator_model_params") or {})
    audio = config.get("audio") or {}
    params.setdefault("in_channels", audio.get("num_mels", 80))
    return HifiganGenerator(out_channels=1, **params)


class _SkipRandomInit(torch.overrides.TorchFunctionMode):
    """Within this thread, `torch.nn.init`'s initialisers leave tensors as allocated (uninitialised).

    Every parameter of a loaded voice is then overwritten by `load_state_dict(strict=True)`, so the
    random initialisation of 28.6 M Glow-TTS parameters (~0.6 s of `uniform_` on one core) is wasted
    work. The mode is thread-local and only intercepts the `torch.nn.init` functions (which dispatch
    through `__torch_function__`); anything else a constructor computes (Glow-TTS's QR-initialised
    1x1 convs, buffers) runs as usual. Building on the `meta` device instead costs ~4 s on first use.
    """

    _SKIPPED = frozenset(
        {
            torch.nn.init.uniform_,
            torch.nn.init.normal_,
            torch.nn.init.trunc_normal_,
            torch.nn.init.kaiming_uniform_,
            torch.nn.init.kaiming_normal_,
            torch.nn.init.xavier_uniform_,
            torch.nn.init.xavier_normal_,
            torch.nn.init.orthogonal_,
            torch.nn.init.sparse_,
        }
    )

    def __torch_function__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        kwargs = kwargs or {}
        if func in self._SKIPPED:
            return kwargs["tensor"] if "tensor" in kwargs else args[0]
        return func(*args, **kwargs)


class _ReleaseCopied:
    """`load_state_dict` post-hook of one module: its own tensors were just copied; drop their pages."""

    def __init__(self, pages: ckpt_io.MappedPages, tensors: list[torch.Tensor]) -> None:
        self.pages = pages
        self.tensors = tensors

    def __call__(self, module: nn.Module, incompatible_keys: Any) -> None:
        for tensor in self.tensors:
            self.pages.release(tensor)


def _extract_model(path: Path) -> ckpt_io.StateDict:
    return ckpt_io.model_state_dict(ckpt_io.load_checkpoint(path), path)


def _extract_generator(path: Path) -> ckpt_io.StateDict:
    return ckpt_io.generator_state_dict(ckpt_io.load_checkpoint(path), path)


def _load_into(model: nn.Module, loaded: weight_cache.Loaded, path: Path) -> None:
    """Strictly load `loaded` into `model`: cache entries by adoption, checkpoints by copying.

    A cache entry's tensors each own their bytes of the entry's private (copy-on-write) mapping, so the
    model adopts them as they are (`assign=True`): no 115 MB copy, and no fresh pages to fault in for
    it (0.28 → 0.06 s for a real-size member). The entry is never rewritten in place (a new one is
    renamed over it), so the mapping stays valid for the life of the process. A checkpoint's tensors
    are views into pickled storages that also hold the optimizer's state: those are copied, and each
    module hands its pages back as soon as its tensors are copied, so peak memory holds the model once.
    """
    state = loaded.state
    hooks = []
    if not loaded.from_cache:
        pages = ckpt_io.MappedPages(loaded.mapped_from)
        if pages:
            for prefix, module in model.named_modules():
                names = [*module._parameters, *module._buffers]
                keys = [f"{prefix}.{name}" if prefix else name for name in names]
                tensors = [state[k] for k in keys if k in state]
                if tensors:
                    hooks.append(module.register_load_state_dict_post_hook(_ReleaseCopied(pages, tensors)))
    try:
        model.load_state_dict(state, strict=True, assign=loaded.from_cache)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        detail = " ".join(str(exc).split())[:200]
        where = f"{path} (cached as {loaded.mapped_from})" if loaded.from_cache else str(path)
        raise VoiceLoadError(f"{where} does not match its config ({first}: {detail})") from None
    finally:
        for hook in hooks:
            hook.remove()


def _adopted_pages(loaded: weight_cache.Loaded) -> ckpt_io.MappedPages | None:
    """The mapping a cache entry's adopted tensors live in, or None (checkpoint loads released theirs
    while copying; no mapping found: nothing to hand back)."""
    if not loaded.from_cache:
        return None
    pages = ckpt_io.MappedPages(loaded.mapped_from)
    return pages if pages else None


def _release_replaced(
    model: nn.Module, loaded: weight_cache.Loaded, pages: ckpt_io.MappedPages | None, prefix: str = ""
) -> None:
    """Hand back the mapped pages of adopted tensors (named `prefix...`) that `model` no longer holds.

    Removing weight norm replaces each (g, v) pair the model adopted from a cache entry with a new
    weight; the pages that computing it read would otherwise stay resident until the process ends
    (+77 MB for a real-size member).
    """
    if pages is None:
        return
    held = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
    for key, tensor in loaded.state.items():
        if key.startswith(prefix) and tensor.untyped_storage().data_ptr() not in held:
            pages.release(tensor)


def _store_inverse(glow: Any, loaded: weight_cache.Loaded) -> None:
    """`GlowTTS.store_inverse` (its decoder's, flow by flow), handing back each flow's replaced pages.

    Folding reads every (g, v) pair and writes a new weight: done for the whole model before any
    release, a real-size member's resident set briefly grew by both (+151 MB); flow by flow it
    grows by one flow's pairs at a time.
    """
    pages = _adopted_pages(loaded)
    flows = getattr(getattr(glow, "decoder", None), "flows", None)
    if flows is None:
        glow.store_inverse()
        _release_replaced(glow, loaded, pages)
        return
    for index, flow in enumerate(flows):
        flow.store_inverse()
        _release_replaced(flow, loaded, pages, prefix=f"decoder.flows.{index}.")


class TooFewFrames(ValueError):
    """The durations of a text add up to fewer frames than Glow-TTS's decoder squeezes into one step."""

    def __init__(self, *, tokens: int, frames: int, needed: int) -> None:
        super().__init__(f"{tokens} tokens got {frames} frames in total; the decoder needs {needed}")
        self.tokens, self.frames, self.needed = tokens, frames, needed


def glow_infer(
    glow: Any,
    ids: list[int],
    *,
    noise_scale: float,
    length_scale: float,
    generator: torch.Generator,
    zero_length_tokens: bool,
    durations: list[Any] | None = None,
) -> torch.Tensor:
    """Glow-TTS inference → mel [1, C, T]; `GlowTTS.inference` with our noise source.

    `zero_length_tokens=True` keeps Coqui TTS <= 0.3.1's `w_ceil = torch.ceil(w)`, where a token whose
    predicted duration is <= 0 gets no frames; v0.4.0 on (and coqui-tts 0.28) force at least one frame
    per token (`torch.clamp_min(torch.ceil(w), 1)`). Which one a voice needs is decided from its files
    (`forv_tts.voices.duration_rule`). `durations`, when given, receives each token's frames (numpy).
    Fewer frames than the decoder squeezes together raise `TooFewFrames` instead of a torch error.
    """
    ensure_coqui_importable()
    from TTS.tts.utils.helpers import generate_path, sequence_mask

    x = torch.tensor([ids], dtype=torch.long)
    x_lengths = torch.tensor([len(ids)], dtype=torch.long)
    o_mean, o_log_scale, o_dur_log, x_mask = glow.encoder(x, x_lengths, g=None)
    w = (torch.exp(o_dur_log) - 1) * x_mask * length_scale
    w_ceil = torch.ceil(w) if zero_length_tokens else torch.clamp_min(torch.ceil(w), 1)
    if durations is not None:
        durations.append(w_ceil[0, 0].detach().cpu().numpy())
    total = int(torch.sum(w_ceil))
    y_lengths = torch.clamp_min(torch.sum(w_ceil, [1, 2]), 1).long()
    squeeze = max(1, int(getattr(glow.decoder, "num_squeeze", 1)))
    if int(y_lengths.max()) < squeeze:
        # The decoder's squeeze would cut this to 0 frames and torch fail deep in a convolution.
        raise TooFewFrames(tokens=len(ids), frames=total, needed=squeeze)
    y_mask = torch.unsqueeze(sequence_mask(y_lengths, None), 1).to(x_mask.dtype)
    attn_mask = torch.unsqueeze(x_mask, -1) * torch.unsqueeze(y_mask, 2)
    attn = generate_path(w_ceil.squeeze(1), attn_mask.squeeze(1)).unsqueeze(1)
    y_mean, y_log_scale, _ = glow.compute_outputs(attn, o_mean, o_log_scale, x_mask)
    # randn_like keeps y_mean's (transposed) strides, so the draw matches coqui's randn_like element
    # for element when the generator is seeded like the global RNG.
    noise = torch.randn_like(y_mean, generator=generator)
    z = (y_mean + torch.exp(y_log_scale) * noise * noise_scale) * y_mask
    y, _ = glow.decoder(z, y_mask, g=None, reverse=True)
    mel: torch.Tensor = y
    return mel
