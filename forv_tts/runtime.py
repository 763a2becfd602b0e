"""Process-wide settings for the torch runtime: applied before torch is imported, and a fast exit after.

Kept apart from `_compat` (which imports importlib.metadata) so the CLI can call it at start-up for free.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def prefer_passive_openmp() -> None:
    """Make idle OpenMP threads sleep instead of spin, unless the user chose otherwise.

    libgomp reads OMP_WAIT_POLICY once, when torch is first imported, so this only acts before that.
    Spinning threads fight every other process for the cores: on a busy 2-core machine a cold
    `say --member` was 1.3-2x slower and a 2-thread batch run fell from 1.35 to 0.37 items/s
    (BENCHMARKS.md, bench/batch_bench.py). Output is unchanged.
    """
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


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
