"""Local files: the one atomic writer (temporary sibling, fsync, rename) for wavs and caches.

A failure or Ctrl-C never leaves a half-written file behind. Only a regular file (or a missing path) is
replaced by a rename: a symlink is followed and its target replaced beside it, and a character device,
FIFO or socket (`/dev/null`, `/dev/stdout`, a named pipe) is written straight through, as sox and ffmpeg
do, so an output path can never turn a device into a regular file. File-system failures become
`OutputPathError` (the path cannot be written: exit 2) or `DiskFullError` (out of space or quota), each
naming the user's path, never our temporary's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from forv_tts.audio import Audio, wav_bytes
from forv_tts.errors import DiskFullError, OutputPathError

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


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


def is_stream_target(path: Path) -> bool:
    """True when `path` exists and is not a regular file or directory (device, FIFO, socket, /dev/stdout)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _final_target(path: Path) -> Path:
    """The file a rename must replace: `path`, or the end of its symlink chain (made absolute)."""
    if not path.is_symlink():
        return path
    return Path(os.path.realpath(path))


def _read_only(path: Path) -> bool:
    """True when the nearest existing parent of `path` is on a read-only mount."""
    for parent in path.parents:
        if parent.exists():
            try:
                return bool(os.statvfs(parent).f_flag & os.ST_RDONLY)
            except OSError:
                return False
    return False


def describe_os_error(path: Path, err: OSError) -> DiskFullError | OutputPathError:
    """A library error for an `OSError` met while writing `path`: what is wrong and what to do."""
    code = err.errno
    if code in _FULL:
        where = path.parent if str(path.parent) not in ("", ".") else Path.cwd()
        return DiskFullError(
            f"no space left on the device holding {where} while writing {path}: free space "
            "or write elsewhere",
            path=path,
        )
    if code == errno.EISDIR or path.is_dir():
        return OutputPathError(
            f"cannot write {path}: it is a directory; give a file name (e.g. {path}/out.wav)"
        )
    if code in (errno.ENOTDIR, errno.EEXIST):
        parent = next((p for p in path.parents if p.exists() and not p.is_dir()), path.parent)
        return OutputPathError(f"cannot write {path}: {parent} is a file, not a directory; pick another path")
    if code == errno.EROFS or (code in (errno.EACCES, errno.EPERM) and _read_only(path)):
        return OutputPathError(f"cannot write {path}: its file system is read-only; write elsewhere")
    if code in (errno.EACCES, errno.EPERM):
        return OutputPathError(f"cannot write {path}: permission denied; pick a directory you can write to")
    reason = err.strerror or str(err)
    return OutputPathError(f"cannot write {path}: {reason}")


def _write_through(path: Path, data: bytes) -> Path:
    """Write into a device, FIFO or socket in place (no temporary, no rename)."""
    try:
        with open(path, "wb", buffering=0) as f:
            view = memoryview(data)
            while view:
                written = f.write(view)
                if not written:
                    raise OSError(errno.EIO, "short write")
                view = view[written:]
    except OSError as err:
        raise describe_os_error(path, err) from None
    return path


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write `data` to `path` via a temporary sibling and rename; parents are created.

    The file gets the permissions a plain `open(path, "w")` would give (0666 minus the umask), not the
    0600 of `mkstemp`'s temporary: other users and services read the wavs we write. Returns `path` as
    given (a symlink stays a symlink; its target holds the new bytes).
    """
    path = Path(path)
    if is_stream_target(path):
        return _write_through(path, data)
    target = _final_target(path)
    tmp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        tmp = None
    except OSError as err:
        raise describe_os_error(path, err) from None
    finally:
        # Also on Ctrl-C (BaseException): never leave the .part file.
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return path


def check_writable(path: Path) -> None:
    """Refuse, before any work, an output path that cannot be written (a directory, a file as parent)."""
    path = Path(path)
    if is_stream_target(path):
        return
    if path.is_dir():
        raise describe_os_error(path, IsADirectoryError(errno.EISDIR, "Is a directory"))
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise describe_os_error(path, NotADirectoryError(errno.ENOTDIR, "Not a directory"))
            if not os.access(parent, os.W_OK):
                raise describe_os_error(path, PermissionError(errno.EACCES, "Permission denied"))
            return


def write_wav(audio: Audio, path: Path) -> Path:
    """Atomically write `audio` as a 16-bit wav at `path` (straight through for a device or FIFO)."""
    return atomic_write_bytes(Path(path), wav_bytes(audio))
