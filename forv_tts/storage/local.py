"""Local files: the one atomic writer (temporary sibling, fsync, rename, directory fsync).

Everything forv-tts writes goes through `atomic_path`: wavs and batch manifests as bytes
(`atomic_write_bytes`), weight-cache entries by name (safetensors streams a ~120 MB entry into the
temporary file itself, so it is never held in memory twice). A failure or Ctrl-C never leaves a
half-written file behind a valid name, nor the temporary file. Only a regular file (or a missing path) is
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
from collections.abc import Iterator
from pathlib import Path

from forv_tts.audio import Audio, wav_bytes
from forv_tts.errors import DiskFullError, OutputPathError

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
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


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Exists(Exception):
    """Carries a no-clobber commit's `FileExistsError` past the handler that describes write failures."""

    def __init__(self, err: FileExistsError) -> None:
        super().__init__(str(err))
        self.err = err


def _commit_new(tmp: Path, target: Path) -> None:
    """Rename `tmp` to `target` only if `target` does not exist (`FileExistsError` if it does): a hard
    link is the atomic no-clobber rename. A file system without hard links gets a check, then a rename."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "File exists", str(target)) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


@contextlib.contextmanager
def atomic_path(path: Path, *, describe_errors: bool = True, replace: bool = True) -> Iterator[Path]:
    """Yield a temporary sibling of `path` to write by name; on success it is fsynced and renamed.

    The file gets the permissions a plain `open(path, "w")` would give (0666 minus the umask), not the
    0600 of `mkstemp`'s temporary: other users and services read what we write. Parents are created;
    a symlink's target is replaced (the link stays). The temporary is named `.<name>.<random>.part`,
    so a killed writer's leftovers can be recognised. With `describe_errors` an `OSError` becomes
    `OutputPathError` / `DiskFullError` naming `path`; without, it propagates (the weight cache, which
    treats an unwritable cache as a miss). With `replace=False` an existing `path` is never replaced:
    the commit raises `FileExistsError` (also when another writer got there first).
    """
    path = Path(path)
    target = _final_target(path)
    tmp: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=PART_SUFFIX, dir=target.parent)
        tmp = Path(tmp_name)
        try:
            os.fchmod(fd, 0o666 & ~_umask())
        finally:
            os.close(fd)
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, target)
        else:
            try:
                _commit_new(tmp, target)
            except FileExistsError as err:
                raise _Exists(err) from None  # not a write failure: the caller decides what it means
        tmp = None
        fsync_dir(target.parent)
    except _Exists as exists:
        raise exists.err from None
    except OSError as err:
        if not describe_errors:
            raise
        raise describe_os_error(path, err) from None
    finally:
        # Also on Ctrl-C (BaseException): never leave the .part file.
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def atomic_write_bytes(path: Path, data: bytes, *, replace: bool = True) -> Path:
    """Write `data` to `path` atomically (`atomic_path`), or straight through for a device or FIFO.

    Returns `path` as given (a symlink stays a symlink; its target holds the new bytes). With
    `replace=False` an existing file is left as it is and `FileExistsError` raised.
    """
    path = Path(path)
    if is_stream_target(path):
        return _write_through(path, data)
    with atomic_path(path, replace=replace) as tmp, open(tmp, "wb") as f:
        f.write(data)
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
