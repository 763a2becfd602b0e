"""HiFi-GAN in windows: the vocoder run on overlapping slices of the mel, giving the whole run's samples.

Why: the vocoder is ~2/3 of a member's synthesis, and onnxruntime's blocked convolutions over a height
of one barely use a second intra-op thread (0.317 → 0.297 s for 460 frames, bench/notes.md). HiFi-GAN is
convolutional (no normalisation over time, no recurrence), so an output sample depends only on the mel
frames within its receptive field: two halves of the mel, each with that much context beyond its edge,
run on two threads at once give the same samples as one run, and a long sentence's activations are
bounded by the window instead of the sentence.

The exported graph is coqui's `HifiganGenerator.inference`: it pads its input by `inference_padding`
frames (replicate) at both ends and returns `(frames + 2 * pad) * hop` samples. Coordinates below are
frames of that padded mel ("padded frames", 0 .. frames + 2 * pad). A window fed the mel frames [s, e)
computes padded frames [s, e + 2 * pad) of which [s + pad + reach, e + pad - reach) are exact (all of
them at a true end of the mel, where the window pads exactly as the whole run does); `reach` is how
far, in frames, any output sample sees into its input along the graph's deepest path (`graph_reach`,
computed from the graph when it is exported and stored in voice.json).

Glow-TTS's decoder is cut the same way (`OnnxVoice.decode`, export.py's `_decoder_windows`): its
inverse flows see past a frame only through the couplings' WaveNet convolutions, so `graph_reach` of
the decoder graph, counted in squeezed frames (`num_squeeze` mel frames each), bounds what a window of
its input needs beyond its edges.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

#: Frames of context added to the graph's computed reach: one for an output sample's position inside
#: its frame, two to spare.
MARGIN = 3


def graph_reach(path: Path) -> tuple[float, float] | None:
    """(samples per mel frame, frames of context on either side) of the vocoder graph's output.

    A longest-path walk over the graph in node order: each tensor carries its rate (samples per mel
    frame) and its reach; a `Conv` adds the larger of its two one-sided extents (`pads` begin, kernel
    extent minus it) at its input's rate and divides the rate by its stride, a `ConvTranspose` adds its
    kernel's span in input samples and multiplies the rate, anything else passes the largest reach of
    its inputs on. None when the graph resamples (`Resize`: the mel interpolation of a vocoder trained at
    another sample rate), which windows cannot follow. Needs the `onnx` package (export time only).
    """
    import onnx
    from onnx import helper

    graph = onnx.load(str(path), load_external_data=False).graph
    known: dict[str, tuple[float, float]] = {graph.input[0].name: (1.0, 0.0)}
    for node in graph.node:
        inputs = [known[name] for name in node.input if name in known]
        if not inputs:
            continue
        rate = max(r for r, _ in inputs)
        reach = max(x for _, x in inputs)
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type in ("Resize", "Upsample"):
            return None
        if node.op_type == "Conv":
            kernel = int(attrs["kernel_shape"][-1])
            dilation = int(attrs.get("dilations", [1])[-1])
            stride = int(attrs.get("strides", [1])[-1])
            pads = list(attrs.get("pads", [0, 0]))
            begin = int(pads[len(pads) // 2 - 1])
            extent = (kernel - 1) * dilation
            reach += max(begin, extent - begin) / rate
            rate /= stride
        elif node.op_type == "ConvTranspose":
            kernel = int(attrs["kernel_shape"][-1])
            stride = int(attrs.get("strides", [1])[-1])
            reach += ((kernel - 1) / stride + 1) / rate
            rate *= stride
        for name in node.output:
            known[name] = (rate, reach)
    return known.get(graph.output[0].name)


def context_frames(reach: float) -> int:
    """Frames of context each side of a window: the graph's reach rounded up, plus `MARGIN`."""
    return math.ceil(reach) + MARGIN


def plan(frames: int, pad: int, context: int, edges: list[int]) -> list[tuple[int, int, int, int]]:
    """Windows covering padded frames [0, frames + 2 * pad) in the blocks between `edges`.

    `edges` are increasing padded-frame positions from 0 to frames + 2 * pad. Each block [a, b) becomes
    (a, b, s, e): vocode mel frames [s, e) and keep padded frames [a, b) of the result, i.e. its samples
    [(a - s) * hop, (b - s) * hop).
    """
    total = frames + 2 * pad
    if not edges or edges[0] != 0 or edges[-1] != total or any(x >= y for x, y in itertools.pairwise(edges)):
        raise ValueError(f"window edges {edges} do not cover 0..{total} in increasing steps")
    out = []
    for a, b in itertools.pairwise(edges):
        s = max(0, a - pad - context)
        e = min(frames, b - pad + context)
        out.append((a, b, s, max(e, s + 1)))
    return out


def even_edges(total: int, parts: int) -> list[int]:
    """`parts` blocks of (nearly) equal size over [0, total)."""
    parts = max(1, min(parts, total))
    return [round(i * total / parts) for i in range(parts + 1)]


def growing_edges(total: int, first: int, largest: int) -> list[int]:
    """Blocks of `first` frames, then each twice the last up to `largest`: the first sound early, the
    overlap's share of the work falling as the stream goes on."""
    edges = [0]
    size = max(1, first)
    while edges[-1] < total:
        edges.append(min(total, edges[-1] + size))
        size = min(largest, size * 2)
    return edges


def worth_splitting(frames: int, context: int, parts: int) -> bool:
    """Whether `parts` windows cost less than one run on one thread: each window recomputes `2 * context`
    frames, so a short mel is vocoded whole."""
    return parts > 1 and frames >= 4 * context * parts


def window_samples(window: tuple[int, int, int, int], out: Any, hop: int, pad: int) -> Any:
    """The kept samples of one window's vocoder output `out` (1-D); checks its length first."""
    a, b, s, e = window
    expected = (e - s + 2 * pad) * hop
    if out.shape[-1] != expected:
        raise ValueError(f"vocoder window gave {out.shape[-1]} samples, expected {expected}")
    return out[(a - s) * hop : (b - s) * hop]
