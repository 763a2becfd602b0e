"""Process-wide settings for the torch runtime, applied before torch is imported.

Kept apart from `_compat` (which imports importlib.metadata) so the CLI can call it at start-up for free.
"""

from __future__ import annotations

import os
import sys


def prefer_passive_openmp() -> None:
    """Make idle OpenMP threads sleep instead of spin, unless the user chose otherwise.

    libgomp reads OMP_WAIT_POLICY once, when torch is first imported, so this only acts before that.
    Spinning threads fight every other process for the cores: on a busy 2-core machine a cold
    `say --member` was 1.3-2x slower and a 2-thread batch run fell from 1.35 to 0.37 items/s
    (BENCHMARKS.md, bench/batch_bench.py). Output is unchanged.
    """
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
