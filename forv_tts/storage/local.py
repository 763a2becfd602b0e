"""Local files: the one atomic writer (temporary sibling, fsync, rename, directory fsync).

Everything forv-tts writes goes through `atomic_path`: wavs and batch manifests as bytes
(`atomic_write_bytes`), weight-cache entries by name (safetensors streams a ~120 MB entry into the
temporary file itself, so it is never held in memory twice). A failure or Ctrl-C never leaves a
half-written file behind a valid name, nor the temporary file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from forv_tts.audio import Audio, wav_bytes

PART_SUFFIX = ".part"


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


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of `path` to write; on success it is fsynced and renamed onto `path`.

    The file gets the permissions a plain `open(path, "w")` would give (0666 minus the umask), not the
    0600 of `mkstemp`'s temporary: other users and services read what we write. Parents are created.
    The temporary is named `.<name>.<random>.part`, so a killed writer's leftovers can be recognised.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PART_SUFFIX, dir=path.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        os.close(fd)
        fd = -1
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        # BaseException: Ctrl-C must not leave the .part file either.
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write `data` to `path` atomically (`atomic_path`); returns `path`."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return path


def write_wav(audio: Audio, path: Path) -> Path:
    """Atomically write `audio` as a 16-bit wav at `path`."""
    return atomic_write_bytes(Path(path), wav_bytes(audio))
