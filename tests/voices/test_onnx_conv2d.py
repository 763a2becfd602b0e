"""The 1-D → 2-D convolution rewrite (forv_tts/voices/onnx/conv2d.py) on graphs torch exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from forv_tts.voices.onnx import conv2d


def _export(module: torch.nn.Module, path: Path, channels: int) -> None:
    x = torch.zeros(1, channels, 50)
    torch.onnx.export(
        module.eval(),
        (x,),
        str(path),
        dynamo=False,
        opset_version=17,
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {2: "t"}, "y": {2: "u"}},
    )


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"x": x})
    return np.asarray(y)


class _Shared(torch.nn.Module):
    """One Conv1d applied twice (its weight shared by two nodes), with a ConvTranspose1d between."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv1d(8, 8, 3, padding=1)
        self.up = torch.nn.ConvTranspose1d(8, 8, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.nn.functional.leaky_relu(self.up(self.conv(x)), 0.1))


LAYERS = {
    "plain": (lambda: torch.nn.Conv1d(8, 16, 7, padding=3), 8),
    "dilated": (lambda: torch.nn.Conv1d(16, 16, 3, dilation=5, padding=5), 16),
    "strided, asymmetric input": (lambda: torch.nn.Conv1d(4, 6, 5, stride=2, padding=1), 4),
    "grouped, no bias": (lambda: torch.nn.Conv1d(8, 8, 3, groups=4, padding=2, bias=False), 8),
    "pointwise": (lambda: torch.nn.Conv1d(80, 32, 1), 80),
    "shared weight + transposed": (_Shared, 8),
}


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("frames", [3, 17, 333])
def test_rewrite_gives_the_same_output(tmp_path: Path, name: str, frames: int) -> None:
    torch.manual_seed(0)
    make, channels = LAYERS[name]
    path = tmp_path / "g.onnx"
    _export(make(), path, channels)
    x = np.random.default_rng(1).standard_normal((1, channels, frames)).astype(np.float32)
    before = _run(path, x)
    assert conv2d.rewrite(path) >= 1
    after = _run(path, x)
    assert after.shape == before.shape
    assert np.abs(after - before).max() <= 1e-5
    model = onnx.load(str(path))
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    weights = {i.name: i for i in model.graph.initializer}
    assert all(len(weights[n.input[1]].dims) == 4 for n in convs)  # no 1-D convolution left
    assert not any(len(i.dims) == 3 and i.name + "_2d" in weights for i in model.graph.initializer)


def test_a_graph_without_1d_convolutions_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "g.onnx"
    _export(torch.nn.ConvTranspose1d(4, 4, 4, stride=2), path, 4)
    before = path.read_bytes()
    assert conv2d.rewrite(path) == 0
    assert path.read_bytes() == before
