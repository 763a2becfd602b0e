"""Every process-level start-up trick behind one call each, with its own switch and version guard.

These are for processes forv-tts owns (the CLI, batch workers); the library never applies them behind
an embedding application's back. Each trick is implemented in `forv_tts._process.runtime` (or, for
the CLI's option coercion, `forv_tts.cli._coercion`); here each is switched (an environment variable
in `forv_tts.settings`, on by default) and, where it reaches into a dependency's internals, armed only
on the versions it was measured on: on another version it is disarmed (the ordinary code path runs),
never half-applied.

| trick                         | switch                        | guarded by        |
|-------------------------------|-------------------------------|-------------------|
| passive OpenMP                | FORV_TTS_PASSIVE_OPENMP       | (public env var)  |
| torch's meta kernels deferred | FORV_TTS_DEFER_TORCH_META     | torch 2.13.*      |
| malloc keeps freed memory     | FORV_TTS_TUNE_MALLOC          | glibc (mallopt)   |
| exit without teardown         | FORV_TTS_FAST_EXIT            | (public API only) |
| lazy option coercion (CLI)    | FORV_TTS_LAZY_COERCION        | typer 0.29.*      |

`report()` says which are armed and why not (logged at debug level by the CLI).
"""

from __future__ import annotations

import importlib.util
import logging
import re
import sys
from pathlib import Path
from typing import NoReturn

from forv_tts import settings
from forv_tts._process import runtime

log = logging.getLogger(__name__)

#: The torch releases the meta-kernel deferral was measured on (its import order and torch._prims).
TORCH_VERSIONS = ("2.13.",)
#: The typer releases the lazy coercion was measured on (its private `_coercion` module).
TYPER_VERSIONS = ("0.29.",)

_state: dict[str, str] = {}


def installed_torch_version() -> str | None:
    """torch's version read from its `version.py`, without importing torch; None if not found."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        try:
            text = (Path(folder) / "version.py").read_text(encoding="utf-8")
        except OSError:
            continue
        match = re.search(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", text, re.MULTILINE)
        if match:
            return match.group(1)
    return None


def version_ok(version: str | None, accepted: tuple[str, ...]) -> bool:
    """Whether `version` starts with one of the `accepted` prefixes."""
    return version is not None and version.startswith(accepted)


def before_torch_import() -> None:
    """Passive OpenMP and deferred meta kernels, each if switched on (and, for the latter, on the
    torch it was measured on). Call before anything imports torch; does nothing after."""
    if "torch" in sys.modules:
        return
    if settings.switch(settings.PASSIVE_OPENMP):
        runtime.prefer_passive_openmp()
        _state["passive_openmp"] = "armed"
    else:
        _state["passive_openmp"] = f"off ({settings.PASSIVE_OPENMP.env})"
    if not settings.switch(settings.DEFER_TORCH_META):
        _state["defer_torch_meta"] = f"off ({settings.DEFER_TORCH_META.env})"
        return
    version = installed_torch_version()
    if not version_ok(version, TORCH_VERSIONS):
        _state["defer_torch_meta"] = f"disarmed (torch {version}, measured on {TORCH_VERSIONS[0]}*)"
        return
    armed = runtime.defer_torch_meta_kernels()
    _state["defer_torch_meta"] = "armed" if armed else "not armed"


def reuse_freed_memory() -> bool:
    """`runtime.reuse_freed_memory` if switched on; whether it is in effect."""
    if not settings.switch(settings.TUNE_MALLOC):
        _state["tune_malloc"] = f"off ({settings.TUNE_MALLOC.env})"
        return False
    tuned = runtime.reuse_freed_memory()
    _state["tune_malloc"] = "armed" if tuned else "not applicable"
    return tuned


def exit_process(code: int) -> NoReturn:
    """End the process with `code`: without the interpreter's teardown if switched on and torch is
    loaded (`runtime.exit_without_teardown`), else a plain `sys.exit`."""
    if settings.switch(settings.FAST_EXIT):
        runtime.exit_without_teardown(code)
    sys.exit(code)


def lazy_coercion_allowed(typer_version: str | None) -> bool:
    """Whether the CLI may replace typer's value coercion (switch on, typer measured)."""
    if not settings.switch(settings.LAZY_COERCION):
        _state["lazy_coercion"] = f"off ({settings.LAZY_COERCION.env})"
        return False
    if not version_ok(typer_version, TYPER_VERSIONS):
        _state["lazy_coercion"] = f"disarmed (typer {typer_version}, measured on {TYPER_VERSIONS[0]}*)"
        return False
    _state["lazy_coercion"] = "armed"
    return True


def report() -> dict[str, str]:
    """Each trick asked for so far in this process: "armed", "off (<switch>)" or why it is disarmed."""
    return dict(_state)
