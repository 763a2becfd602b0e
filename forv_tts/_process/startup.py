"""The process-level settings forv-tts applies in processes it owns (the CLI, batch and service
workers), each behind one switch; the library never applies them behind an embedding application's back.

| setting                    | switch                       | guarded by         | pays on                   |
|----------------------------|------------------------------|--------------------|---------------------------|
| passive OpenMP             | FORV_TTS_PASSIVE_OPENMP      | (public env var)   | torch engine, the export  |
| lazy option coercion (CLI) | FORV_TTS_LAZY_COERCION       | typer 0.29.*       | every command             |
| graph pages handed back    | FORV_TTS_RELEASE_GRAPH_PAGES | onnxruntime 1.32.* | `say` peak RSS (ONNX)     |
| exit without teardown      | FORV_TTS_QUICK_EXIT          | (checks, fallback) | `say` wall time           |

With the ONNX engine the default, two earlier tricks no longer paid for themselves on the default
path and were removed (BENCHMARKS.md, "Start-up settings, each switched off"): torch's meta kernels
deferred through `sys.meta_path` and glibc's malloc tuned with `mallopt`. A `say --member` with the
ONNX engine never imports torch, so the first had nothing to act on; ONNX Runtime keeps its own memory
arena, so the second saved 5% of the page faults and no measurable time. The exit without the
interpreter's teardown was removed with them (it acted only once torch was loaded) and came back in
issue 28 for `say` whatever its engine (`quick_exit`): the teardown of a finished ONNX `say` process
took 0.09-0.15 s (bench/notes.md).

`report()` says which are armed and why not (logged at debug level by the CLI).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading

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
_quick_exit_asked = False


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


def arm_quick_exit() -> None:
    """This process's command ends the process when it returns (`forv-tts say`): the console script may
    then leave without the interpreter's teardown (`quick_exit`), if switched on."""
    global _quick_exit_asked
    _quick_exit_asked = True
    on = settings.switch(settings.QUICK_EXIT)
    _state["quick_exit"] = "armed" if on else f"off ({settings.QUICK_EXIT.env})"


def _flush_std() -> bool:
    """Flush stdout and stderr as the interpreter's exit would; False if one could not be flushed."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None or getattr(stream, "closed", True):
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            return False
    return True


def quick_exit(code: object) -> None:
    """End a successful armed command's process at once: never returns then; else returns and the
    caller goes on with the normal exit (re-raising its `SystemExit`).

    Why: once `forv-tts say` has written and closed its clip, CPython's finalisation (garbage
    collection over every object, module teardown, ONNX Runtime's session destructors) is work the OS
    does anyway: 0.09-0.15 s of a 1.0-1.3 s cold `say --member` (bench/notes.md). What a normal exit
    does that anyone can see is done here, in the same order: stdout and stderr flushed; non-daemon
    threads joined and threading's exit hooks run (`concurrent.futures` shuts its pools down); the
    `atexit` handlers (logging's flush and close, tempfile's finalizers, a coverage tool's save); the
    streams flushed again. Only then `os._exit(0)`.

    The normal exit runs instead when: not armed or `FORV_TTS_QUICK_EXIT=0`; the exit code is not 0
    (usage errors and failures keep the plain path, whose teardown also closes what an error left
    suspended); called off the main thread; a tracer or profiler is installed (it reports at the
    end); this Python lacks `threading._shutdown` or `atexit._run_exitfuncs`; or a flush fails (a
    reader gone: the normal path's own handling, retry and exit code apply).
    """
    if not _quick_exit_asked or not settings.switch(settings.QUICK_EXIT):
        return
    if not (code is None or (type(code) is int and code == 0)):
        return
    shutdown = getattr(threading, "_shutdown", None)
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if (
        shutdown is None
        or run_exitfuncs is None
        or threading.current_thread() is not threading.main_thread()
        or sys.gettrace() is not None
        or sys.getprofile() is not None
        or sys.is_finalizing()
    ):
        return
    if not _flush_std():
        return
    log.debug("leaving without the interpreter's teardown (%s=0 keeps it)", settings.QUICK_EXIT.env)
    shutdown()  # what Py_FinalizeEx does first: threading's exit hooks, then join non-daemon threads
    run_exitfuncs()  # then the atexit handlers (logging.shutdown among them)
    if not _flush_std():
        return  # the interpreter's own flush fails the same way and sets the exit code
    os._exit(0)


def report() -> dict[str, str]:
    """Each setting asked for so far in this process: "armed", "off (<switch>)" or why it is disarmed."""
    return dict(_state)
