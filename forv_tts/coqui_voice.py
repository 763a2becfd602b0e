"""A member's voice: a Coqui Glow-TTS acoustic model plus a HiFi-GAN v2 vocoder.

The networks are coqui-tts 0.28's own classes (`GlowTTS`, `HifiganGenerator`) built from the member's
config files. Around them we do what coqui's `Synthesizer` does, with three deliberate differences:

* Tokenisation is ours (`forv_tts.coqui_text`, torch-free and shared with the ONNX engine), because
  coqui 0.28 mis-reads the team's checkpoints: it builds a Coqui TTS 0.x config's symbol table the
  new way and its `basic_cleaners` NFC-compose conjoining jamo.
* Mel (de)normalisation, sample-rate interpolation and silence trimming are small numpy/torch copies
  of `AudioProcessor` (constructing the real one imports librosa/numba, about a second); tests prove
  them equal to coqui's.
* The sampling noise comes from a per-call `torch.Generator`, so a seed reproduces a clip regardless of
  what ran before, and the global RNG is left alone.

Output level: coqui's `save_wav`, which produced every wav the old system delivered, scales each clip
so its peak is full scale (`wav * 32767 / max(0.01, max|wav|)`). `synthesize` returns samples scaled
the same way (`wav / max(0.01, max|wav|)`), so our 16-bit wavs match the old ones to within one LSB
(coqui truncates to int16, `forv_tts.audio` rounds).
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import torch

from forv_tts import checkpoint as ckpt_io
from forv_tts import weight_cache
from forv_tts._compat import ensure_coqui_importable, import_coqui
from forv_tts.audio import Audio
from forv_tts.coqui_text import (  # noqa: F401 (re-exported: the torch engine's text side is shared)
    TEXT_COMPAT,
    TEXT_JAMO,
    TEXT_OTHER,
    TEXT_SYLLABLE,
    AudioSettings,
    Tokenizer,
    detect_text_form,
    legacy_tokenizer,
    modern_tokenizer,
    modern_vocab,
    peak_normalize,
    to_text_form,
    tokenizer_for,
)
from forv_tts.errors import InvalidInputError, SynthesisError, VoiceLoadError
from forv_tts.models import FORMAT_LEGACY, VoiceInfo, config_format, read_config_json
from forv_tts.runtime import new_generator

if TYPE_CHECKING:
    from torch import nn

log = logging.getLogger(__name__)


def interpolate_mel(mel: torch.Tensor, scale: float) -> torch.Tensor:
    """[C, T] → [1, C, T*scale]: `TTS.vocoder.utils.generic_utils.interpolate_vocoder_input`."""
    spec = mel.unsqueeze(0).unsqueeze(0)
    out = torch.nn.functional.interpolate(
        spec, scale_factor=[1.0, scale], recompute_scale_factor=True, mode="bilinear", align_corners=False
    )
    return out.squeeze(0)


# Config fields that define the Glow-TTS network (and its inference defaults); the rest is training.
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


def _channels_last(vocoder: nn.Module) -> bool:
    """Let every convolution of a HiFi-GAN generator run on channels-last activations; True if it did.

    torch hands a `Conv1d` to oneDNN as a 2-D convolution over NCHW tensors, and oneDNN reorders that
    input into its blocked layout and the output back on every call: with HiFi-GAN v2's 8-64 channels
    over tens of thousands of samples, a quarter of the vocoder's time went into those reorders, and
    the dilated and 11-tap convolutions fell back to im2col + GEMM at 8-25 GFLOP/s. On channels-last
    [B, C, 1, T] tensors oneDNN runs its brgemm convolution (`brg_conv_fwd:avx2`) with no reorder at
    70-85 GFLOP/s, whatever the padding. `CoquiVoice.vocode` then feeds coqui's own `forward` such
    tensors: each `Conv1d` computes `conv2d` on its [C_out, C_in, 1, k] view, each upsampling layer is
    a `_SubPixelUpsample`, and the elementwise layers in between keep the layout. Same sums in another
    order: samples within ~1e-6 of coqui's (tests/test_perf_equivalence.py). Nothing is changed (False)
    when the generator has a layer this does not cover (a linear or conditioning input, another kind
    of convolution).
    A 3-D input still takes every layer's own forward.
    """
    if hasattr(vocoder, "lin_pre") or hasattr(vocoder, "cond_layer"):
        return False
    convs = [m for m in vocoder.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)]
    if not all(_covered(conv) for conv in convs):
        return False
    for conv in convs:
        if isinstance(conv, torch.nn.ConvTranspose1d):
            conv.forward = _SubPixelUpsample(conv)  # type: ignore[method-assign,assignment]
        elif isinstance(conv, torch.nn.Conv1d):
            conv.forward = _Conv1dAs2d(conv)  # type: ignore[method-assign,assignment]
    return True


def _covered(conv: torch.nn.modules.conv._ConvNd) -> bool:
    """A layer `_channels_last` can take over: an exact-multiple upsampling layer, or a `Conv1d` whose
    output is as long as its input (what `_zero_tail` relies on) with zero padding given as a number."""
    if type(conv) is torch.nn.ConvTranspose1d:
        return _SubPixelUpsample.applies_to(conv)
    if type(conv) is not torch.nn.Conv1d or conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        return False
    (stride,), (width,), (dilation,) = conv.stride, conv.kernel_size, conv.dilation
    return stride == 1 and 2 * int(conv.padding[0]) == dilation * (width - 1)


#: The vocoder's input is zero-extended to a multiple of this many frames (~0.37 s of audio). oneDNN
#: builds its convolution primitives for each input width, ~0.35 ms per mel frame of a new width on
#: this CPU (as much as the arithmetic itself on two threads); with widths rounded up, a batch
#: reuses them from oneDNN's primitive cache after its first few lines.
VOCODER_WIDTH_STEP = 32


class _ValidWidths(threading.local):
    """Per thread, during one bucketed vocoder run: padded width → how much of it is real signal."""

    def __init__(self) -> None:
        self.table: dict[int, int] = {}


_valid_widths = _ValidWidths()


@contextlib.contextmanager
def _bucketed(table: dict[int, int]) -> Iterator[None]:
    _valid_widths.table = table
    try:
        yield
    finally:
        _valid_widths.table = {}


def _zero_tail(out: torch.Tensor, width: int) -> torch.Tensor:
    """Zero `out` beyond the real signal of a bucketed input of `width` columns (a no-op otherwise).

    A zero-padded convolution of the real signal reads zeros beyond its end; the bucketed input holds
    zeros there, and keeps holding them because every convolution's output tail (its bias, and whatever
    leaks in from the real signal) is zeroed here before anything reads it. The layers in between
    (leaky ReLU, sums, the division by the number of kernels, tanh) map zeros to zeros.
    """
    valid = _valid_widths.table.get(width)
    if valid is not None and valid < out.shape[-1]:
        out[..., valid:] = 0
    return out


def vocode_channels_last(vocoder: Any, mel: torch.Tensor, step: int = VOCODER_WIDTH_STEP) -> torch.Tensor:
    """coqui's `HifiganGenerator.inference(mel)` ([B, C, T] → [B, 1, T * hop]) after `_channels_last`.

    Same replicate padding, then `forward` on channels-last [B, C, 1, W]: the padded mel zero-extended to
    a multiple of `step` frames, each convolution's output cut back to the real signal (`_zero_tail`),
    the waveform cropped to the real length.
    """
    pad = vocoder.inference_padding
    padded = torch.nn.functional.pad(mel, (pad, pad), "replicate")
    valid = padded.shape[-1]
    width = -(-valid // step) * step
    table = {width: valid}
    scale = 1
    for layer in vocoder.ups:
        scale *= layer.stride[0]
        table[width * scale] = valid * scale
    x = to_channels_last(torch.nn.functional.pad(padded, (0, width - valid)))
    with _bucketed(table):
        out: torch.Tensor = vocoder.forward(x)
    return out.squeeze(2)[..., : valid * scale]


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """[B, C, T] → the same values as [B, C, 1, T] stored channels-last: what `_channels_last` layers take."""
    return x.unsqueeze(2).contiguous(memory_format=torch.channels_last)


#: Channels-last convolutions over at most this many input channels and more than `FOLD_ROW` samples
#: run as rows of `FOLD_ROW` samples (`_same_length_conv`).
FOLD_CHANNELS = 16
FOLD_ROW = 2048


def _same_length_conv(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    padding: int,
    dilation: int = 1,
    groups: int = 1,
) -> torch.Tensor:
    """A stride-1 convolution along the last axis of channels-last [B, C, 1, T] whose output is T long.

    oneDNN's kernel for these keeps per-output-column tables in each primitive it caches, ~30 bytes a
    column with 8 channels: HiFi-GAN v2's 8- and 16-channel layers at 100 k+ samples held ~50 MB per
    input length, and a batch (a new length on every line) grew a worker by 0.5 GB in ten lines. Narrow
    inputs wider than `FOLD_ROW` are therefore cut into rows of `FOLD_ROW` samples, each with the
    `padding` samples either side it reads (zeros past the ends, as the convolution's own padding), and
    convolved as one [B, C, rows, FOLD_ROW + 2*padding] image without padding: the same sums, for a copy
    of the input, with primitives whose size no longer depends on the length (~7 MB of cache per length
    left, from the wider layers). The rows of the output, stored channels-last, are the signal in order.
    """
    batch, channels, _, length = x.shape
    if channels > FOLD_CHANNELS or length <= FOLD_ROW:
        return torch.nn.functional.conv2d(x, weight, bias, 1, (0, padding), (1, dilation), groups)
    rows = -(-length // FOLD_ROW)
    padded = torch.nn.functional.pad(x, (padding, rows * FOLD_ROW - length + padding))
    padded = padded.contiguous(memory_format=torch.channels_last)  # [B, 1, L, C] in memory
    windows = padded.as_strided(
        (batch, channels, rows, FOLD_ROW + 2 * padding), (padded.stride(0), 1, FOLD_ROW * channels, channels)
    ).contiguous(memory_format=torch.channels_last)
    out = torch.nn.functional.conv2d(windows, weight, bias, 1, 0, (1, dilation), groups)  # [B, C', rows, ROW]
    out_channels = out.shape[1]
    assert out.shape[-1] == FOLD_ROW, "not a same-length convolution"
    signal = out.permute(0, 2, 3, 1).reshape(batch, 1, rows * FOLD_ROW, out_channels).permute(0, 3, 1, 2)
    return signal[..., :length]


class _Conv1dAs2d:
    """`forward` of one `Conv1d`: a [B, C, 1, T] input goes through `conv2d`; any other to the layer's own."""

    def __init__(self, conv: torch.nn.Conv1d) -> None:
        self.conv = conv

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        conv = self.conv
        if x.dim() != 4:
            return torch.nn.Conv1d.forward(conv, x)
        out = _same_length_conv(
            x, conv.weight.unsqueeze(2), conv.bias, int(conv.padding[0]), conv.dilation[0], conv.groups
        )
        return _zero_tail(out, x.shape[-1])


class _SubPixelUpsample:
    """`forward` of one `ConvTranspose1d` on [B, C, 1, T]: a convolution into `stride` x the channels.

    oneDNN builds a new transposed-convolution primitive for every input length (a backward-data kernel
    in disguise, ~15-20 ms per layer here), i.e. for every synthesis and every batch line. With stride s,
    kernel w of width k and padding p, output sample m*s + r of a transposed convolution is the sum over
    taps d of x[m - d] * w[d*s + r + p] (the taps whose index falls inside the kernel). For a fixed phase
    r that is an ordinary convolution of x; stacking the s phases as output channels (phase-major) gives
    one forward convolution, and on channels-last data the interleaving of the phases is a free reshape:
    sample m's s*C values are output samples m*s .. m*s + s - 1. Only layers whose output is exactly s
    times their input (k - 2p == s, no output padding, dilation 1, one group) are changed; any other
    input (3-D, `output_size`) takes the layer's own forward. The kernel is rearranged from the layer's
    current weight on every call (~0.35 ms a layer), so a reloaded or re-parametrised weight can never
    leave a stale copy behind.
    """

    def __init__(self, conv: torch.nn.ConvTranspose1d) -> None:
        self.conv = conv
        (stride,), (width,) = conv.stride, conv.kernel_size
        padding = int(conv.padding[0])
        # Output m*s + r reads x[m - d] for |d| <= reach: k = s + 2p makes the taps symmetric around 0.
        reach = -(-padding // stride)  # ceil(p / s)
        # Kernel position i of phase r holds weight tap (reach - i) * s + r + p, or (index 0, a zero column
        # prepended to the weight) nothing when that tap falls outside the kernel.
        self.taps = torch.tensor(
            [
                [
                    tap + 1 if 0 <= (tap := (reach - i) * stride + r + padding) < width else 0
                    for i in range(2 * reach + 1)
                ]
                for r in range(stride)
            ]
        )
        self.reach = reach

    @staticmethod
    def applies_to(conv: torch.nn.ConvTranspose1d) -> bool:
        (stride,), (width,), (dilation,), (out_pad,) = (
            conv.stride,
            conv.kernel_size,
            conv.dilation,
            conv.output_padding,
        )
        padding = int(conv.padding[0])  # always a tuple of ints on a transposed convolution
        return (
            conv.groups == 1
            and conv.padding_mode == "zeros"
            and dilation == 1
            and out_pad == 0
            and width - 2 * padding == stride
        )

    def kernel(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The equivalent convolution's weight [s*C_out, C_in, 1, width] (phase-major) and bias."""
        weight = self.conv.weight  # [C_in, C_out, k]
        c_in, c_out, _ = weight.shape
        stride, width = self.taps.shape
        padded = torch.nn.functional.pad(weight, (1, 0))  # column 0: zeros for taps outside the kernel
        kernel = padded[:, :, self.taps.reshape(-1)].reshape(c_in, c_out, stride, width)
        kernel = kernel.permute(2, 1, 0, 3).reshape(stride * c_out, c_in, 1, width)
        bias = self.conv.bias
        return kernel, None if bias is None else bias.repeat(stride)

    def __call__(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        conv = self.conv
        if output_size is not None or x.dim() != 4:
            return torch.nn.ConvTranspose1d.forward(conv, x, output_size)
        kernel, bias = self.kernel()
        z = _same_length_conv(x, kernel, bias, self.reach)  # [B, s*C, 1, T]
        _zero_tail(z, x.shape[-1])  # phases of the real signal only: the interleaved tail stays zero
        batch, _, _, length = z.shape
        stride = conv.stride[0]
        # [B, T, s*C] → [B, T*s, C]: a view when z is channels-last (oneDNN's output for such an input).
        return z.permute(0, 2, 3, 1).reshape(batch, 1, length * stride, conv.out_channels).permute(0, 3, 1, 2)


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


def glow_infer(
    glow: Any,
    ids: list[int],
    *,
    noise_scale: float,
    length_scale: float,
    generator: torch.Generator,
    zero_length_tokens: bool,
) -> torch.Tensor:
    """Glow-TTS inference → mel [1, C, T]; `GlowTTS.inference` with our noise source.

    `zero_length_tokens=True` keeps Coqui TTS 0.x's `w_ceil = torch.ceil(w)`, where a token whose
    predicted duration is <= 0 gets no frames; coqui-tts 0.28 forces at least one frame per token
    (`torch.clamp_min(torch.ceil(w), 1)`), which would change the audio of legacy voices.
    """
    ensure_coqui_importable()
    from TTS.tts.utils.helpers import generate_path, sequence_mask

    x = torch.tensor([ids], dtype=torch.long)
    x_lengths = torch.tensor([len(ids)], dtype=torch.long)
    o_mean, o_log_scale, o_dur_log, x_mask = glow.encoder(x, x_lengths, g=None)
    w = (torch.exp(o_dur_log) - 1) * x_mask * length_scale
    w_ceil = torch.ceil(w) if zero_length_tokens else torch.clamp_min(torch.ceil(w), 1)
    y_lengths = torch.clamp_min(torch.sum(w_ceil, [1, 2]), 1).long()
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


class CoquiVoice:
    """A loaded member voice (implements `forv_tts.models.Voice`)."""

    info: VoiceInfo
    sample_rate: int
    from_weight_cache: bool  # both networks' weights came from `forv_tts.weight_cache`

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
        # Coqui TTS 0.x's duration rule (tokens may get 0 frames) for its checkpoints; the ONNX export
        # records this attribute (forv_tts.voices.onnx.export.duration_rule).
        self.zero_length_tokens = self.format == FORMAT_LEGACY

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

    @staticmethod
    def _read_config(path: Path) -> dict[str, Any]:
        try:
            return read_config_json(path)
        except (OSError, ValueError) as exc:
            raise VoiceLoadError(f"cannot read config {path}: {exc}") from None

    def tokenize(self, text: str) -> list[int]:
        """Token ids for `text`; unspeakable characters are dropped with one logged warning."""
        ids, dropped = self.tokenizer.encode(text)
        if dropped:
            log.warning(
                "voice %s cannot speak %s; dropped",
                self.info.id,
                " ".join(f"{c!r}(U+{ord(c):04X})" for c in dropped),
            )
        return ids

    def synthesize(self, text: str, *, seed: int | None = None, length_scale: float | None = None) -> Audio:
        """Speak one normalised sentence; `seed` makes it reproducible, `length_scale` > 1 is slower."""
        ids = self.tokenize(text)
        scale = self.length_scale if length_scale is None else float(length_scale)
        if not math.isfinite(scale) or scale <= 0:
            raise InvalidInputError(f"length scale must be a positive number, got {length_scale!r}")
        generator = new_generator(secrets.randbits(63) if seed is None else int(seed))
        try:
            with torch.inference_mode():
                mel = glow_infer(
                    self.glow,
                    ids,
                    noise_scale=self.noise_scale,
                    length_scale=scale,
                    generator=generator,
                    zero_length_tokens=self.zero_length_tokens,
                )
                wav = self.vocode(mel[0])
        except RuntimeError as exc:
            raise SynthesisError(f"voice {self.info.id} failed on {text!r}: {exc}") from None
        if self.tts_audio.do_trim_silence:
            wav = wav[: self.tts_audio.find_endpoint(wav)]
        return Audio(peak_normalize(wav), self.sample_rate)

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
