"""The fast HiFi-GAN path: channels-last activations, width buckets, sub-pixel upsampling.

Same samples as coqui's `HifiganGenerator.inference` to ~1e-6, fewer oneDNN reorders (bench/notes.md).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from torch import nn

log = logging.getLogger(__name__)


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
