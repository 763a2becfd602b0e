"""Glow-TTS's sampling noise, drawn in numpy exactly as torch draws it, so a seed means the same clip.

Why not numpy's own normals: the torch engine draws `torch.randn_like(y_mean, generator=g)` from a
generator seeded with `--seed`; to give the same audio for the same seed, the ONNX engine (which runs
without torch) must reproduce that stream. torch's CPU generator is a standard MT19937 seeded with the
low 32 bits of the seed (`init_genrand`), which is also what numpy's legacy `RandomState(seed)` seeds;
its raw 32-bit outputs are shaped into normals in one of two ways (ATen's `normal_kernel`):

* a tensor that is not contiguous, or has fewer than 16 elements: one double-precision Box-Muller pair
  per two draws of 53-bit uniforms (`at::normal_distribution<double>`, the second value cached), in
  memory order. Glow-TTS's `y_mean` is a transposed view ([1, C, T] stored as [1, T, C]), so this is
  the path every synthesis with more than one frame takes; reproduced bit for bit (tests/test_onnx.py).
* a contiguous float tensor of 16 or more: 24-bit float uniforms, then Box-Muller on blocks of 16
  (`normal_fill`); torch's AVX2 build computes log/sin/cos with its own approximations, so this path
  (a one-frame clip) matches to ~1e-7 rather than exactly.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_MASK53 = np.uint64((1 << 53) - 1)
_MASK24 = np.uint64((1 << 24) - 1)


def _raw(seed: int, count: int) -> npt.NDArray[np.uint64]:
    """The first `count` 32-bit outputs of torch's CPU generator after `manual_seed(seed)`."""
    state = np.random.RandomState(int(seed) & 0xFFFFFFFF)
    bits = state._bit_generator  # MT19937, seeded by init_genrand like torch's mt19937
    return np.asarray(bits.random_raw(count), dtype=np.uint64)


def _normal_double(seed: int, count: int) -> npt.NDArray[np.float32]:
    pairs = (count + 1) // 2
    raw = _raw(seed, pairs * 4).reshape(pairs, 4)
    first = (raw[:, 0] << np.uint64(32)) | raw[:, 1]  # random64(): the first draw is the high word
    second = (raw[:, 2] << np.uint64(32)) | raw[:, 3]
    u1 = (first & _MASK53).astype(np.float64) * 2.0**-53
    u2 = (second & _MASK53).astype(np.float64) * 2.0**-53
    radius = np.sqrt(-2.0 * np.log1p(-u2))
    theta = 2.0 * np.pi * u1
    out = np.empty(pairs * 2, dtype=np.float64)
    out[0::2] = radius * np.cos(theta)
    out[1::2] = radius * np.sin(theta)
    return out[:count].astype(np.float32)


def _fill16(block: npt.NDArray[np.float32]) -> None:
    u1 = np.float32(1.0) - block[:8]
    u2 = block[8:16].copy()
    radius = np.sqrt(np.float32(-2.0) * np.log(u1))
    theta = np.float32(2.0 * np.pi) * u2
    block[:8] = radius * np.cos(theta)
    block[8:16] = radius * np.sin(theta)


def _normal_float(seed: int, count: int) -> npt.NDArray[np.float32]:
    raw = _raw(seed, count + (16 if count % 16 else 0))
    uniform = (raw & _MASK24).astype(np.float32) * np.float32(2.0**-24)
    data = uniform[:count].copy()
    for start in range(0, count - 15, 16):
        _fill16(data[start : start + 16])
    if count % 16:
        data[count - 16 :] = uniform[count:]
        _fill16(data[count - 16 :])
    return data


def glow_noise(seed: int, channels: int, frames: int) -> npt.NDArray[np.float32]:
    """[1, channels, frames] standard normals, equal to the torch engine's draw for `seed`."""
    count = channels * frames
    contiguous = frames == 1 or channels == 1  # torch ignores the strides of size-1 dimensions
    flat = _normal_float(seed, count) if contiguous and count >= 16 else _normal_double(seed, count)
    # Memory order of a [1, C, T] view of a [1, T, C] tensor: frame-major.
    return np.ascontiguousarray(flat.reshape(frames, channels).T)[None]
