"""Local files: the one atomic writer (temporary sibling, fsync, rename) for wavs and caches.

A failure or Ctrl-C never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from forv_tts.audio import Audio, wav_bytes


def _umask() -> int:
    """The process umask, read without changing it (`os.umask` can only set it, racing other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write `data` to `path` via a temporary sibling and rename; parents are created.

    The file gets the permissions a plain `open(path, "w")` would give (0666 minus the umask), not the
    0600 of `mkstemp`'s temporary: other users and services read the wavs we write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # BaseException: Ctrl-C must not leave the .part file either.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def write_wav(audio: Audio, path: Path) -> Path:
    """Atomically write `audio` as a 16-bit wav at `path`."""
    return atomic_write_bytes(Path(path), wav_bytes(audio))
