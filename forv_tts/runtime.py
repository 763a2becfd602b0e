"""Process-wide settings for the torch runtime: applied before torch is imported, and a fast exit after.

Kept apart from `_compat` (which imports importlib.metadata) so the CLI can call it at start-up for free.
These are settings for a process that forv-tts owns (the CLI, batch workers); the library never applies
them behind an embedding application's back.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from typing import NoReturn

log = logging.getLogger(__name__)

#: glibc's `mallopt` parameters (malloc.h) and the values `reuse_freed_memory` sets.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # the largest glibc accepts on 64-bit (HEAP_MAX_SIZE / 2)
TRIM_THRESHOLD = 256 * 1024 * 1024
#: Environment variables through which a user tunes glibc's malloc; if any is set, theirs wins.
_MALLOC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
_malloc_tuned: bool | None = None


def prefer_passive_openmp() -> None:
    """Make idle OpenMP threads sleep instead of spin, unless the user chose otherwise.

    libgomp reads OMP_WAIT_POLICY once, when torch is first imported, so this only acts before that.
    Spinning threads fight every other process for the cores: on a busy 2-core machine a cold
    `say --member` was 1.3-2x slower and a 2-thread batch run fell from 1.35 to 0.37 items/s
    (BENCHMARKS.md, bench/batch_bench.py). Output is unchanged.
    """
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def reuse_freed_memory() -> bool:
    """Let glibc's malloc keep freed memory for the next allocation instead of handing it back at once.

    Why: a synthesis allocates and frees hundreds of activation buffers of a few MB. With glibc's
    defaults each one above the (adaptive) mmap threshold is a fresh `mmap`, and free space at the top
    of the heap is trimmed, so every call faults in tens of thousands of new zeroed pages: 10-75 k page
    faults per sentence on this machine, and ~0.8 s of system time in a cold `say --member`. Serving
    blocks up to 32 MB from the heap and trimming only above 256 MB cut that to 2-4 k faults per
    sentence: a cold `say --member` faulted 117 k pages instead of 170 k and ran ~0.15 s sooner (median
    of 8 interleaved pairs), a 60-line batch spent 1.3-1.6 s of system time instead of 2.3-3.2 s
    (bench/notes.md). PyTorch's CPU tuning guide gets the same effect by preloading jemalloc or
    tcmalloc; this needs no other allocator and no re-exec. The cost is memory a process has freed
    staying mapped to it, bounded by that process's own peak (a loaded member: ~390 MB, not ~365 MB).

    Applied once per process, only with glibc, and not when the user tuned malloc through
    `MALLOC_*_` variables or `GLIBC_TUNABLES`. Returns whether the settings are in effect.
    """
    global _malloc_tuned
    if _malloc_tuned is not None:
        return _malloc_tuned
    _malloc_tuned = False
    if any(name in os.environ for name in _MALLOC_ENV) or "glibc.malloc." in os.environ.get(
        "GLIBC_TUNABLES", ""
    ):
        log.debug("malloc left as the environment configures it")
        return False
    try:
        libc_name = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        libc_name = ""
    if not libc_name.startswith("glibc"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # Setting either turns off glibc's adaptive thresholds; mallopt returns 1 on success.
    _malloc_tuned = (
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    )
    log.debug("malloc keeps freed memory for reuse: %s", _malloc_tuned)
    return _malloc_tuned


def exit_without_teardown(code: int) -> NoReturn:
    """End the process like `sys.exit(code)`, minus the interpreter's teardown, when torch is loaded.

    Why: with torch imported, CPython's finalisation (tearing down ~1,000 modules and torch's C++
    state, all of which the OS reclaims anyway) takes 0.4 s on this machine: 13% of a cold
    `say --member` (BENCHMARKS.md). What a normal exit does that matters is done here too: the
    `atexit` handlers run (logging's flush, tempfile cleanup), then stdout and stderr are flushed; a
    reader that went away turns success into exit code 1, as elsewhere. Falls back to a normal exit
    when torch was never imported (nothing to gain) or another non-daemon thread is still running (a
    normal exit would wait for it).
    """
    main = threading.main_thread()
    others_running = any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not main)
    if (
        "torch" not in sys.modules
        or threading.current_thread() is not main
        or others_running
        or not hasattr(atexit, "_run_exitfuncs")
    ):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)
