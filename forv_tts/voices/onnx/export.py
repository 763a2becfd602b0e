"""Export a loaded member voice (`CoquiVoice`, coqui's own modules) to an ONNX voice directory.

Three graphs, not one, because the middle of Glow-TTS is not a network: the encoder graph gives the
token statistics and durations (`length_scale` an input), then the runtime applies the voice's duration
rule, builds the alignment path and draws the seeded noise in numpy (`voice.py`, `noise.py`), and the
decoder graph runs the inverse flows (`noise_scale` an input). Keeping the noise outside the graph is
what lets `--seed` reproduce the torch engine's clip: ONNX has no generator with torch's stream. The
alignment is a cumulative sum and a one-hot matrix of data-dependent size, cheap in numpy and awkward as
a graph. The vocoder graph is HiFi-GAN v2's `inference` (its replicate padding included, and the mel
interpolation when the two networks' sample rates differ).

Exporter: torch 2.13's TorchScript-based `torch.onnx.export(dynamo=False)` with dynamic axes. The
dynamo exporter (default in 2.13, needs onnxscript) exports the same graphs with the same numbers, but
took ~12 s against ~2 s for the tiny test voices (bench/notes.md); every test session and every first
use of a checkpoint pays the export. The tracer's known risk, shapes frozen into the graph, is what
tests/test_onnx.py checks: many text and frame lengths, short and long, against the torch engine.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from forv_tts.voices.base import FORMAT_LEGACY
from forv_tts.voices.coqui.dsp import interpolate_mel
from forv_tts.voices.coqui.voice import CoquiVoice
from forv_tts.voices.onnx import conv2d, manifest, windows

log = logging.getLogger(__name__)

OPSET = 17
EXPORTER = "torchscript"


def duration_rule(voice: Any) -> str:
    """The duration rule the loaded voice applies (its `zero_length_tokens`, decided by
    `forv_tts.voices.duration_rule`): recorded in voice.json, applied by the runtime."""
    zero = getattr(voice, "zero_length_tokens", None)
    if zero is None:
        zero = voice.format == FORMAT_LEGACY
    return manifest.DURATION_CEIL if zero else manifest.DURATION_CEIL_MIN1


class _Encoder(torch.nn.Module):
    """ids [1, T], length_scale [1] → o_mean, o_log_scale [1, C, T] and durations w [1, 1, T]."""

    def __init__(self, glow: Any) -> None:
        super().__init__()
        self.glow = glow

    def forward(self, ids: torch.Tensor, length_scale: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x_lengths = torch.ones_like(ids[:, 0]) * ids.shape[1]
        o_mean, o_log_scale, o_dur_log, x_mask = self.glow.encoder(ids, x_lengths, g=None)
        w = (torch.exp(o_dur_log) - 1) * x_mask * length_scale  # as glow_infer / GlowTTS.inference
        return o_mean, o_log_scale, w


class _Decoder(torch.nn.Module):
    """y_mean, y_log_scale, noise [1, C, F], noise_scale [1] → mel [1, C, F - F % num_squeeze]."""

    def __init__(self, glow: Any) -> None:
        super().__init__()
        self.glow = glow

    def forward(
        self, y_mean: torch.Tensor, y_log_scale: torch.Tensor, noise: torch.Tensor, noise_scale: torch.Tensor
    ) -> torch.Tensor:
        y_mask = torch.ones_like(y_mean[:, :1, :])  # one utterance: every frame is real
        z = (y_mean + torch.exp(y_log_scale) * noise * noise_scale) * y_mask
        y, _ = self.glow.decoder(z, y_mask, g=None, reverse=True)
        mel: torch.Tensor = y
        return mel


class _Vocoder(torch.nn.Module):
    """The vocoder's normalised mel [1, C, M] at the acoustic model's rate → waveform [1, 1, S]."""

    def __init__(self, vocoder: Any, scale: float) -> None:
        super().__init__()
        self.vocoder = vocoder
        self.scale = scale

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        if self.scale != 1:
            mel = interpolate_mel(mel[0], self.scale)
        wav: torch.Tensor = self.vocoder.inference(mel)
        return wav


@contextlib.contextmanager
def _plain_vocoder(vocoder: Any) -> Iterator[None]:
    """coqui's own layer `forward`s for the export, whatever `CoquiVoice` installed for speed."""
    replaced = {}
    for module in vocoder.modules():
        if "forward" in module.__dict__:
            replaced[module] = module.__dict__.pop("forward")
    try:
        yield
    finally:
        for module, forward in replaced.items():
            module.forward = forward


def _export(module: torch.nn.Module, args: tuple[Any, ...], path: Path, **names: Any) -> None:
    module.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # TracerWarnings about Python ints the dynamic axes cover
        torch.onnx.export(module, args, str(path), dynamo=False, opset_version=OPSET, **names)


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


#: Graphs stored already optimised by onnxruntime (its hardware-independent "extended" level, for the
#: CPU provider), weights in a file of their own: opening them then skips the graph optimiser. Real-size
#: Glow-TTS decoder: 0.35-0.46 s to open as exported, 0.09-0.12 s pre-optimised (bench/notes.md). The
#: vocoder (4 MB, 0.07 s) keeps onnxruntime's full, hardware-specific optimisation at load.
PREOPTIMIZED = ("encoder", "decoder")
OPTIMIZED_LEVEL = "extended"


def _finish(raw: Path, final: Path, *, optimize: bool) -> dict[str, Any]:
    """Put the exported graph `raw` in place as `final` (optimised where `optimize`); its manifest entry."""
    if not optimize:
        os.replace(raw, final)
        _fsync(final)
        return {"file": final.name, "size": final.stat().st_size}
    import onnxruntime as ort

    data = final.with_suffix(".data")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.optimized_model_filepath = str(final)
    opts.add_session_config_entry("session.optimized_model_external_initializers_file_name", data.name)
    opts.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    opts.log_severity_level = 3
    ort.InferenceSession(str(raw), opts, providers=["CPUExecutionProvider"])
    raw.unlink()
    for path in (final, data):
        _fsync(path)
    return {
        "file": final.name,
        "size": final.stat().st_size,
        "data": data.name,
        "data_size": data.stat().st_size,
        "optimized": OPTIMIZED_LEVEL,
        "onnxruntime": ort.__version__,
    }


def _vocoder_windows(path: Path, vocoder: Any, scale: float) -> dict[str, Any] | None:
    """What windowed vocoding needs (windows.py): the graph's reach and padding; None when the graph
    resamples the mel or its output rate is not the upsampling layers' product (then it runs whole)."""
    hop = 1
    for layer in getattr(vocoder, "ups", ()):
        hop *= int(layer.stride[0])
    found = windows.graph_reach(path) if scale == 1 else None
    if found is None or found[0] != hop:
        log.info("vocoder of %s cannot run in windows (rate %s, hop %s)", path, found, hop)
        return None
    return {
        "reach": round(found[1], 4),
        "context": windows.context_frames(found[1]),
        "padding": int(getattr(vocoder, "inference_padding", 0)),
        "hop": hop,
    }


def _decoder_windows(path: Path, num_squeeze: int) -> dict[str, Any] | None:
    """What the decoder needs to run in windows (windows.py): its flows' reach, in mel frames.

    The inverse flows are ActNorm, 1x1 invertible convolutions and WaveNet couplings over the squeezed
    frames (`num_squeeze` mel frames each): only the couplings' convolutions see past a frame, so the
    graph's reach (the same walk as the vocoder's) is in squeezed frames. None when it cannot be
    followed (a strided or transposed convolution, a resampling layer), and then the decoder runs whole.
    """
    found = windows.graph_reach(path)
    if found is None or found[0] != 1:
        log.info("decoder of %s cannot run in windows (rate %s)", path, found)
        return None
    return {
        "reach": round(found[1], 4),
        "unit": num_squeeze,
        "context": windows.context_frames(found[1]) * num_squeeze,
    }


def export_voice(voice: CoquiVoice, directory: Path, *, source: dict[str, Any] | None = None) -> Path:
    """Write `voice` as an exported voice into `directory` (created; existing graphs are replaced).

    `source` (stamps of the files it was made from) goes into voice.json for the cache to compare.
    voice.json is written last, so a directory without it (an export cut short) never counts.
    """
    t0 = time.perf_counter()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (directory / manifest.MANIFEST).unlink()
    glow, vocoder = voice.glow, voice.vocoder
    num_mels = int(voice.tts_audio.num_mels)
    ids = torch.arange(1, 41, dtype=torch.long).remainder(voice.tokenizer.num_chars - 1).add(1)[None]
    frames = 64
    mel = torch.zeros(1, num_mels, frames)
    files = {name: directory / f"{name}.raw.onnx" for name in manifest.GRAPHS}
    _export(
        _Encoder(glow),
        (ids, torch.tensor([1.0])),
        files["encoder"],
        input_names=["ids", "length_scale"],
        output_names=["o_mean", "o_log_scale", "w"],
        dynamic_axes={
            "ids": {1: "tokens"},
            "o_mean": {2: "tokens"},
            "o_log_scale": {2: "tokens"},
            "w": {2: "tokens"},
        },
    )
    _export(
        _Decoder(glow),
        (mel, mel, mel, torch.tensor([0.5])),
        files["decoder"],
        input_names=["y_mean", "y_log_scale", "noise", "noise_scale"],
        output_names=["mel"],
        dynamic_axes={
            "y_mean": {2: "frames"},
            "y_log_scale": {2: "frames"},
            "noise": {2: "frames"},
            "mel": {2: "mel_frames"},
        },
    )
    scale = voice.vocoder_audio.sample_rate / voice.tts_audio.sample_rate
    with _plain_vocoder(vocoder):
        _export(
            _Vocoder(vocoder, scale),
            (mel,),
            files["vocoder"],
            input_names=["mel"],
            output_names=["wav"],
            dynamic_axes={"mel": {2: "mel_frames"}, "wav": {2: "samples"}},
        )
    conv2d.rewrite(files["vocoder"])  # opened at onnxruntime's full level: its NCHWc kernels
    vocoder_windows = _vocoder_windows(files["vocoder"], vocoder, scale)
    num_squeeze = int(getattr(glow.decoder, "num_squeeze", 2))
    decoder_windows = _decoder_windows(files["decoder"], num_squeeze)
    graphs = {}
    for name, raw in files.items():
        graphs[name] = _finish(raw, directory / f"{name}.onnx", optimize=name in PREOPTIMIZED)
    manifest.write(
        directory,
        {
            "member": voice.info.id,
            "format": voice.format,
            "num_squeeze": num_squeeze,
            "duration_rule": duration_rule(voice),
            "duration_rule_evidence": str(getattr(voice, "duration_rule_evidence", "")),
            "noise_scale": voice.noise_scale,
            "length_scale": voice.length_scale,
            "sample_rate": voice.sample_rate,
            "tokenizer": manifest.tokenizer_to_dict(voice.tokenizer),
            "tts_audio": manifest.audio_to_dict(voice.tts_audio),
            "vocoder_audio": manifest.audio_to_dict(voice.vocoder_audio),
            "graphs": graphs,
            "vocoder_windows": vocoder_windows,
            "decoder_windows": decoder_windows,
            "exporter": {"torch": torch.__version__, "method": EXPORTER, "opset": OPSET},
            "source": source or {},
        },
    )
    log.info("exported member %s to %s in %.1f s", voice.info.id, directory, time.perf_counter() - t0)
    return directory
