"""Safe checkpoint loading and conversion of state dicts written by old Coqui TTS 0.x releases.

A checkpoint is untrusted input: it is a pickle, and a full `torch.load` would run whatever code the
pickle names. We always load with `weights_only=True`, which only rebuilds tensors and plain
containers, and allow-list (inside a `torch.serialization.safe_globals` context, never globally) the
two numpy types real Coqui checkpoints contain: numpy scalars (`model_loss` and friends, pickled by
numpy 1.x as `numpy.core.multiarray.scalar`, by numpy 2 as `numpy._core.multiarray.scalar`) and
`numpy.dtype`. Anything else makes loading fail with a one-line `VoiceLoadError`.

Files are memory-mapped (`mmap=True`) when they use torch's zip format, so tensors we never use (the
~70 M-parameter GAN discriminator of a vocoder training checkpoint, the optimizer moments) are never
read from disk: we pick out the generator's tensors, copy them into the model, and drop the rest.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from forv_tts.errors import VoiceLoadError

log = logging.getLogger(__name__)

StateDict = dict[str, torch.Tensor]

_UNSAFE_GLOBAL = re.compile(r"Unsupported global: GLOBAL (\S+)")
_WN_KEY = re.compile(r"^(?P<prefix>.*)\.weight_(?P<kind>[gv])$")


def _numpy_safe_globals() -> list[Any]:
    """The plain numpy types real checkpoints need, under both their numpy 1.x and 2.x names."""
    scalar = np._core.multiarray.scalar  # type: ignore[attr-defined]
    dtype_classes = [type(np.dtype(code)) for code in ("f2", "f4", "f8", "i4", "i8", "u1", "b1")]
    return [
        scalar,
        (scalar, "numpy.core.multiarray.scalar"),
        np.dtype,
        *dtype_classes,
    ]


def _first_sentence(message: str, exc: BaseException) -> str:
    """torch's error, reduced to its first sentence (never cut mid-word), or the exception's type."""
    text = " ".join(message.split())
    first = text.split(". ")[0].rstrip(".")
    if len(first) > 200:
        first = first[:200].rsplit(" ", 1)[0] + " …"
    return first or type(exc).__name__


def load_checkpoint(path: Path, *, mmap: bool = True) -> dict[str, Any]:
    """Load a checkpoint safely on CPU; memory-mapped when the file format allows it.

    Raises `VoiceLoadError` (one line, naming the file) when the file is missing, corrupt, truncated or
    needs anything beyond tensors, plain containers and numpy scalars.
    """
    path = Path(path)
    if not path.is_file():
        raise VoiceLoadError(f"checkpoint not found: {path}")
    try:
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            try:
                obj = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
            except RuntimeError as exc:
                if not (mmap and "mmap can only be used" in str(exc)):
                    raise
                # Legacy (pre torch 1.6) serialisation: no mmap, read it whole.
                log.debug("%s is not in torch's zip format; loading without mmap", path)
                obj = torch.load(path, map_location="cpu", weights_only=True)
    except VoiceLoadError:
        raise
    except Exception as exc:
        message = str(exc)
        unsafe = _UNSAFE_GLOBAL.search(message)
        if unsafe:
            raise VoiceLoadError(
                f"refusing to load {path}: it contains {unsafe.group(1)}, which is not plain weights "
                "(checkpoints are loaded with weights_only=True; re-save it with tensors only)"
            ) from None
        raise VoiceLoadError(
            f"cannot read checkpoint {path}: corrupt or truncated ({_first_sentence(message, exc)}); "
            "copy it again from where it was trained"
        ) from None
    if not isinstance(obj, dict):
        raise VoiceLoadError(f"cannot read checkpoint {path}: expected a dict, found {type(obj).__name__}")
    return obj


def _tensor_dict(obj: object, path: Path, what: str) -> StateDict:
    if not isinstance(obj, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    ):
        raise VoiceLoadError(f"checkpoint {path} has no usable {what} state dict")
    return dict(obj)


def model_state_dict(ckpt: Mapping[str, Any], path: Path) -> StateDict:
    """The acoustic model's weights (`ckpt["model"]`), with weight-norm keys converted."""
    return convert_weight_norm_keys(_tensor_dict(ckpt.get("model"), path, "model"))


def generator_state_dict(ckpt: Mapping[str, Any], path: Path) -> StateDict:
    """The vocoder generator's weights only; the GAN discriminator is never kept.

    Three layouts exist: GAN-class checkpoints (Coqui >= 0.0.15, also coqui-tts today) hold one
    `model` dict with `model_g.*` generator and `model_d.*` discriminator keys; older ones hold the
    generator as `model` and the discriminator as `model_disc`; a bare generator has plain keys.
    """
    model = ckpt.get("model")
    if not isinstance(model, Mapping):
        raise VoiceLoadError(f"checkpoint {path} has no usable vocoder state dict")
    if "model_disc" not in ckpt and any(str(k).startswith("model_g.") for k in model):
        gen = {k[len("model_g.") :]: v for k, v in model.items() if k.startswith("model_g.")}
    else:
        gen = {k: v for k, v in model.items() if not str(k).startswith("model_d.")}
    return convert_weight_norm_keys(_tensor_dict(gen, path, "vocoder generator"))


def convert_weight_norm_keys(state: StateDict) -> StateDict:
    """Rename old `torch.nn.utils.weight_norm` keys to torch parametrization keys.

    Coqui 0.x (and coqui-tts < 0.24) used `weight_norm`, saving `<m>.weight_g` / `<m>.weight_v`;
    coqui-tts 0.28 uses `torch.nn.utils.parametrizations.weight_norm`, whose state dict holds
    `<m>.parametrizations.weight.original0` (g) and `.original1` (v). The tensors are identical.
    """
    out: StateDict = {}
    for key, value in state.items():
        m = _WN_KEY.match(key)
        if m:
            index = "0" if m.group("kind") == "g" else "1"
            out[f"{m.group('prefix')}.parametrizations.weight.original{index}"] = value
        else:
            out[key] = value
    return out


_MADV_DONTNEED = 4  # Linux <sys/mman.h>
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class MappedPages:
    """Hands back the resident pages of a memory-mapped checkpoint's tensors once they have been copied.

    With `mmap=True` every page of the checkpoint that a copy reads stays in the process's resident set
    until the whole file is unmapped, i.e. after the last of its tensors is dropped: loading a 28.6 M
    parameter Glow-TTS briefly held its 115 MB twice (the file pages and the model's own copy). `release`
    tells the kernel (`madvise(MADV_DONTNEED)`) that this process no longer needs the pages lying wholly
    inside one tensor's bytes. Only pages of this file's private, read-only-used mapping are touched
    (found in /proc/self/maps by device and inode); for those the call never changes what a later read
    returns (a clean private file page is simply read from the file again). Anywhere else (no Linux, no
    mapping found: e.g. a checkpoint loaded without mmap) it does nothing.
    """

    def __init__(self, path: Path) -> None:
        self._ranges: list[tuple[int, int]] = []
        self._madvise: Any = None
        if not sys.platform.startswith("linux"):
            return
        try:
            st = Path(path).stat()
            dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}"
            with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
                for line in maps:
                    fields = line.split(maxsplit=5)
                    if len(fields) < 5 or fields[1][3:4] != "p" or fields[4] != str(st.st_ino):
                        continue
                    if fields[3].lower().lstrip("0") != dev.lstrip("0"):
                        continue
                    lo, hi = (int(x, 16) for x in fields[0].split("-"))
                    self._ranges.append((lo, hi))
            if self._ranges:
                libc = ctypes.CDLL(None, use_errno=True)
                libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
                libc.madvise.restype = ctypes.c_int
                self._madvise = libc.madvise
        except (OSError, ValueError, AttributeError) as exc:
            log.debug("not releasing mapped pages of %s: %s", path, exc)
            self._ranges = []

    def __bool__(self) -> bool:
        return bool(self._ranges) and self._madvise is not None

    def release(self, tensor: torch.Tensor) -> None:
        """Drop the resident pages wholly inside `tensor`'s storage, if they belong to the mapping."""
        if not self:
            return
        storage = tensor.untyped_storage()
        start = storage.data_ptr()
        end = start + storage.nbytes()
        for lo, hi in self._ranges:
            if lo <= start and end <= hi:
                first = -(-start // _PAGE) * _PAGE
                last = end // _PAGE * _PAGE
                if last > first:
                    self._madvise(first, last - first, _MADV_DONTNEED)
                return
