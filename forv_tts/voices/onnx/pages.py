"""Hand back the resident pages of a graph's weight file once the graph has run (one-shot processes).

Why: onnxruntime 1.32 memory-maps each external initializer of a graph (encoder.data, decoder.data) as
its own private mapping, and every page a run reads stays resident: after the first synthesis a cold
`say --member` held the 27 MB of the encoder's and the 80 MB of the decoder's weights while the
vocoder ran, 243 MB at its peak (bench/notes.md). A page of such a mapping that was never written (its
`Anonymous:` count in /proc/self/smaps is 0) is a clean copy of the file: `madvise(MADV_DONTNEED)`
drops it, and a later read faults it in again from the page cache, unchanged. So once a graph has run,
`release(path)` drops the clean mappings of its weight file; the next run pays minor page faults.

This reaches into onnxruntime's memory layout, so it is a process setting (`forv_tts._process.startup`:
`FORV_TTS_RELEASE_GRAPH_PAGES`, checked against the onnxruntime releases it was measured on) that only
`forv-tts say` arms: a batch worker or a service speaks again at once, and its pages are shared in the
page cache with the other workers anyway. Mappings with any written (anonymous) page are left alone.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_MADV_DONTNEED = 4
_madvise: Any = None


def _libc_madvise() -> Any:
    global _madvise
    if _madvise is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        libc.madvise.restype = ctypes.c_int
        _madvise = libc.madvise
    return _madvise


def clean_mappings(path: Path) -> list[tuple[int, int]]:
    """Address ranges of this process's private mappings of `path` that hold no written page."""
    st = Path(path).stat()
    dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}"
    found: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    with open("/proc/self/smaps", encoding="ascii", errors="replace") as smaps:
        for line in smaps:
            if line[:1] in "0123456789abcdef" and "-" in line.split(" ", 1)[0]:
                fields = line.split(maxsplit=5)
                current = None
                if (
                    len(fields) >= 5
                    and fields[1][3:4] == "p"
                    and fields[4] == str(st.st_ino)
                    and fields[3].lower().lstrip("0") == dev.lstrip("0")
                ):
                    lo, hi = (int(x, 16) for x in fields[0].split("-"))
                    current = (lo, hi)
            elif current is not None and line.startswith("Anonymous:"):
                if int(line.split()[1]) == 0:
                    found.append(current)
                current = None
    return found


def release(path: Path) -> int:
    """Drop the resident pages of `path`'s clean private mappings; returns how many bytes were covered
    (0 off Linux, or when nothing maps the file)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        ranges = clean_mappings(path)
        if not ranges:
            return 0
        madvise = _libc_madvise()
        total = 0
        for lo, hi in ranges:
            if madvise(lo, hi - lo, _MADV_DONTNEED) == 0:
                total += hi - lo
        return total
    except (OSError, ValueError, AttributeError) as exc:
        log.debug("not releasing the mapped pages of %s: %s", path, exc)
        return 0
