"""Member voices on ONNX Runtime: export (`export.py`, needs torch), run (`voice.py`, needs only
onnxruntime and numpy), built once per checkpoint (`cache.py`).

The engine a member is spoken with: the `--engine` option, else `$FORV_TTS_ENGINE`, else ONNX. The
torch engine (`forv_tts.voices.coqui`) stays selectable and is what tests/test_onnx.py compares to.
"""

from __future__ import annotations

from forv_tts import settings
from forv_tts.errors import InvalidInputError

ENGINE_ENV = settings.ENGINE.env
ENGINE_ONNX = "onnx"
ENGINE_TORCH = "torch"
ENGINES = (ENGINE_ONNX, ENGINE_TORCH)
DEFAULT_ENGINE = ENGINE_ONNX


def resolve_engine(option: str | None = None) -> str:
    """`option`, else `$FORV_TTS_ENGINE`, else the default; an unknown name is `InvalidInputError`."""
    value = (settings.ENGINE.get(option) or DEFAULT_ENGINE).strip().lower()
    if value not in ENGINES:
        raise InvalidInputError(f"unknown engine {value!r}: use {' or '.join(ENGINES)}")
    return value
