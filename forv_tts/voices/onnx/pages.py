"""Hand back the resident pages of a graph's weight file once the graph has run (one-shot processes).

Why: onnxruntime 1.32 memory-maps each external initializer of a graph (encoder.data, decoder.data) as
its own private mapping, and every page a run reads stays resident: after the first synthesis a cold
`say --member` held the 27 MB of the encoder's and the 80 MB of the decoder's weights while the
vocoder ran, 243 MB at its peak (bench/notes.md). A mapping none of whose pages was ever written is a
clean copy of the file: `madvise(MADV_DONTNEED)` drops its pages, and a later read faults them in again
from the page cache, unchanged. So once a graph has run, `release(path)` drops the clean mappings of
its weight file; the next run pays minor page faults.

Which mappings are clean (`clean_mappings`): /proc/self/maps names the private mappings of the file
(device and inode; onnxruntime maps them `rw-p`, so the permissions prove nothing), and
/proc/self/pagemap gives one 64-bit entry per page of just those ranges: a page that was written is
the process's own (anonymous) copy, present or swapped out with the file-page bit clear. This answers
what /proc/self/smaps's `Anonymous:` and `Swap:` counts would (the method before, which also missed
written pages that were swapped out), in 2.4-4 ms a call instead of 14-17 ms: smaps totals every page
of every mapping of the process, ~630 of them in a `say` (bench/notes.md).

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


#: /proc/<pid>/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
_PRESENT = 1 << 63
_SWAPPED = 1 << 62
_FILE_OR_SHARED = 1 << 61
#: Mappings this close (pages apart) are read from pagemap in one piece, the gap with them.
_GAP_PAGES = 256


def private_mappings(path: Path) -> list[tuple[int, int]]:
    """Address ranges of this process's private mappings of `path` (/proc/self/maps: device, inode)."""
    st = Path(path).stat()
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    found: list[tuple[int, int]] = []
    with open("/proc/self/maps", "rb") as maps:
        text = maps.read()
    inode = b" %d " % st.st_ino
    for line in text.splitlines():
        if inode not in line:  # most of the process's mappings: not split at all
            continue
        # address perms offset dev inode [path]; the path may hold spaces, so at most 5 splits
        fields = line.split(maxsplit=5)
        if len(fields) < 5 or fields[1][3:4] != b"p" or int(fields[4]) != st.st_ino:
            continue
        dev_major, _, dev_minor = fields[3].partition(b":")
        if (int(dev_major, 16), int(dev_minor, 16)) != (major, minor):
            continue
        lo, _, hi = fields[0].partition(b"-")
        found.append((int(lo, 16), int(hi, 16)))
    return found


def clean_mappings(path: Path) -> list[tuple[int, int]]:
    """Address ranges of this process's private mappings of `path` that hold no written page."""
    ranges = sorted(private_mappings(path))
    if not ranges:
        return []
    import numpy as np  # loaded already wherever an ONNX voice runs

    page = os.sysconf("SC_PAGE_SIZE")
    found: list[tuple[int, int]] = []
    fd = os.open("/proc/self/pagemap", os.O_RDONLY)
    try:
        for group in _nearby(ranges, _GAP_PAGES * page):
            first, last = group[0][0] // page, group[-1][1] // page
            size = (last - first) * 8
            data = os.pread(fd, size, first * 8)  # one read for the group (a gap reads as absent)
            if len(data) != size:
                raise ValueError(f"short read of /proc/self/pagemap ({len(data)} of {size} bytes)")
            entries = np.frombuffer(data, dtype=np.uint64)
            written = ((entries & np.uint64(_PRESENT | _SWAPPED)) != 0) & (
                (entries & np.uint64(_FILE_OR_SHARED)) == 0
            )
            # Written pages before each page index: a range is clean when none lies within it.
            before = np.concatenate(([0], np.cumsum(written, dtype=np.int64)))
            for lo, hi in group:
                if before[hi // page - first] == before[lo // page - first]:
                    found.append((lo, hi))
    finally:
        os.close(fd)
    return found


def _nearby(ranges: list[tuple[int, int]], gap: int) -> list[list[tuple[int, int]]]:
    """Sorted `ranges` in groups whose neighbours are at most `gap` bytes apart (one read each)."""
    groups: list[list[tuple[int, int]]] = [[ranges[0]]]
    for lo, hi in ranges[1:]:
        if lo - groups[-1][-1][1] <= gap:
            groups[-1].append((lo, hi))
        else:
            groups.append([(lo, hi)])
    return groups


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
