"""The process-level settings forv-tts applies in processes it owns (the CLI, batch and service
workers), each behind one switch; the library never applies them behind an embedding application's back.

| setting                    | switch                       | guarded by         | pays on                   |
|----------------------------|------------------------------|--------------------|---------------------------|
| passive OpenMP             | FORV_TTS_PASSIVE_OPENMP      | (public env var)   | torch engine, the export  |
| lazy option coercion (CLI) | FORV_TTS_LAZY_COERCION       | typer 0.29.*       | every command             |
| graph pages handed back    | FORV_TTS_RELEASE_GRAPH_PAGES | onnxruntime 1.32.* | `say` peak RSS (ONNX)     |

With the ONNX engine the default, three earlier tricks no longer paid for themselves on the default
path and were removed (BENCHMARKS.md, "Start-up settings, each switched off"): torch's meta kernels
deferred through `sys.meta_path`, glibc's malloc tuned with `mallopt`, and the exit without the
interpreter's teardown. A `say --member` with the ONNX engine never imports torch, so the first and
the last had nothing to act on; ONNX Runtime keeps its own memory arena, so the second saved 5% of the
page faults and no measurable time.

`report()` says which are armed and why not (logged at debug level by the CLI).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys

from forv_tts import settings

log = logging.getLogger(__name__)

#: The typer releases the lazy coercion was measured on (its private `_coercion` module).
TYPER_VERSIONS = ("0.29.",)
#: The onnxruntime releases whose weight mappings `voices/onnx/pages.py` was measured on.
ONNXRUNTIME_VERSIONS = ("1.32.",)

_state: dict[str, str] = {}
_threads_sized: int | None = None
_threads_wanted: int | None = None
_release_pages_asked = False


def version_ok(version: str | None, accepted: tuple[str, ...]) -> bool:
    """Whether `version` starts with one of the `accepted` prefixes."""
    return version is not None and version.startswith(accepted)


def before_torch_import() -> None:
    """Make idle OpenMP threads sleep instead of spin (if switched on and the user did not choose).

    libgomp reads OMP_WAIT_POLICY once, when torch is first imported, so this only acts before that.
    Spinning threads fight every other process for the cores: on a shared 2-core machine a cold
    `say --member --engine torch` took 12.5 s instead of 2.0 s with them spinning, and a 2-thread
    batch run fell from 1.35 to 0.37 items/s (BENCHMARKS.md). Output is unchanged. ONNX Runtime does
    not use OpenMP; its threads are told not to spin by its own session options (voices/onnx/voice.py).
    """
    if "torch" in sys.modules:
        return
    if settings.switch(settings.PASSIVE_OPENMP):
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        _state["passive_openmp"] = "armed"
    else:
        _state["passive_openmp"] = f"off ({settings.PASSIVE_OPENMP.env})"


def size_synthesis_threads(threads: int) -> None:
    """This worker process's thread count, for the engine that will speak its members, before the first
    loads; once per process (later calls change nothing).

    With the ONNX engine: `FORV_TTS_ONNX_THREADS`, which a voice reads when it makes its sessions (with
    a seed the count is 1, for the same bytes at any `--jobs`); torch is not imported. With the torch
    engine: torch's pools, whose interop size can only be set before their first use.
    """
    global _threads_sized
    if _threads_sized is not None:
        return
    from forv_tts.voices.onnx import ENGINE_ONNX, resolve_engine

    if resolve_engine() == ENGINE_ONNX:
        os.environ[settings.ONNX_THREADS.env] = str(threads)
    else:
        before_torch_import()
        import torch

        torch.set_num_threads(threads)
        with contextlib.suppress(RuntimeError):  # already used in this process: its size stays
            torch.set_num_interop_threads(1)
    _threads_sized = threads


def want_synthesis_threads(threads: int) -> None:
    """The thread count this worker process (batch's or the service's) gives its engine: applied by
    `size_threads_for` before the first member loads."""
    global _threads_wanted
    _threads_wanted = max(1, threads)


def size_threads_for(engine: str) -> None:
    """Before a voice of `engine` loads: size the pools to the wanted count (`want_synthesis_threads`;
    nothing when none was asked for, or for the built-in espeak-ng voice, which has no pools)."""
    from forv_tts.voices.base import ENGINE_ESPEAK

    if _threads_wanted is not None and engine != ENGINE_ESPEAK:
        size_synthesis_threads(_threads_wanted)


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


def arm_release_graph_pages() -> None:
    """This process speaks once and exits (`forv-tts say`): an ONNX voice may hand back each graph's
    weight pages after the graph has run (voices/onnx/pages.py), if switched on and onnxruntime is a
    release it was measured on (`release_graph_pages`). Peak RSS of a cold `say --member` 243 → 184 MB
    (bench/notes.md); later sentences fault the pages in again from the page cache."""
    global _release_pages_asked
    _release_pages_asked = True


def release_graph_pages(onnxruntime_version: str | None) -> bool:
    """Whether an ONNX voice in this process hands back its graphs' weight pages after each run."""
    if not _release_pages_asked:
        return False
    if not settings.switch(settings.RELEASE_GRAPH_PAGES):
        _state["release_graph_pages"] = f"off ({settings.RELEASE_GRAPH_PAGES.env})"
        return False
    if not version_ok(onnxruntime_version, ONNXRUNTIME_VERSIONS):
        _state["release_graph_pages"] = (
            f"disarmed (onnxruntime {onnxruntime_version}, measured on {ONNXRUNTIME_VERSIONS[0]}*)"
        )
        return False
    _state["release_graph_pages"] = "armed"
    return True


def report() -> dict[str, str]:
    """Each setting asked for so far in this process: "armed", "off (<switch>)" or why it is disarmed."""
    return dict(_state)
