"""The atomic writer: replaces only regular files, writes through devices and FIFOs, names the user's path."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from forv_tts.errors import DiskFullError, OutputPathError
from forv_tts.storage.local import atomic_write_bytes, check_writable

DATA = b"RIFF" + bytes(range(256)) * 8


def _device(path: Path, minor: int) -> Path:
    """A copy of /dev/null (minor 3) or /dev/full (7) in `path`: tests never aim the writer at /dev itself
    (a regression would replace the machine's own devices)."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("mknod needs root")
    return path


def _no_parts(directory: Path) -> None:
    assert [p.name for p in directory.iterdir() if p.name.endswith(".part")] == []


def test_regular_file_replaced(tmp_path: Path) -> None:
    target = tmp_path / "a.wav"
    target.write_bytes(b"old")
    atomic_write_bytes(target, DATA)
    assert target.read_bytes() == DATA
    _no_parts(tmp_path)


def test_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "target.wav"
    target.write_bytes(b"old")
    link = tmp_path / "link.wav"
    link.symlink_to(target)
    assert atomic_write_bytes(link, DATA) == link
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == DATA
    _no_parts(tmp_path)
    _no_parts(tmp_path / "real")


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.wav"
    link.symlink_to(tmp_path / "sub" / "new.wav")
    atomic_write_bytes(link, DATA)
    assert link.is_symlink() and (tmp_path / "sub" / "new.wav").read_bytes() == DATA


def test_character_device_written_through(tmp_path: Path) -> None:
    dev = _device(tmp_path / "null-copy", 3)
    atomic_write_bytes(dev, DATA)
    assert stat.S_ISCHR(os.lstat(dev).st_mode)
    _no_parts(tmp_path)


def test_fifo_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    atomic_write_bytes(fifo, DATA)
    reader.join(10)
    assert got == [DATA]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    _no_parts(tmp_path)


def test_dev_full_is_a_clear_error_and_stays_a_device(tmp_path: Path) -> None:
    full = _device(tmp_path / "full", 7)
    with pytest.raises(DiskFullError, match="no space left") as info:
        atomic_write_bytes(full, DATA)
    assert ".part" not in str(info.value)
    assert stat.S_ISCHR(os.lstat(full).st_mode)


def test_directory_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    for call in (atomic_write_bytes, lambda p, _d: check_writable(p)):
        with pytest.raises(OutputPathError, match="is a directory") as info:
            call(tmp_path / "adir", DATA)
        assert ".part" not in str(info.value)
    _no_parts(tmp_path / "adir")


def test_parent_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_bytes(b"x")
    for call in (atomic_write_bytes, lambda p, _d: check_writable(p)):
        with pytest.raises(OutputPathError, match="afile is a file, not a directory"):
            call(tmp_path / "afile" / "x" / "out.wav", DATA)


def test_read_only_file_system(small_fs: Any) -> None:
    ro = small_fs(64, readonly=True)
    for call in (atomic_write_bytes, lambda p, _d: check_writable(p)):
        with pytest.raises(OutputPathError, match="read-only"):
            call(ro / "out.wav", DATA)


def test_full_file_system_leaves_nothing(small_fs: Any) -> None:
    fs = small_fs(64)
    (fs / "keep.wav").write_bytes(b"old")
    with pytest.raises(DiskFullError, match=f"no space left on the device holding {fs}") as info:
        atomic_write_bytes(fs / "keep.wav", DATA * 64)
    assert ".part" not in str(info.value)
    assert (fs / "keep.wav").read_bytes() == b"old"
    assert sorted(p.name for p in fs.iterdir()) == ["keep.wav"]


def test_no_replace_leaves_an_existing_file_and_its_temporary_goes(tmp_path: Path) -> None:
    """`replace=False` (a uuid's team-named clip): the commit never replaces what is there, also when
    another writer got there first; nothing half-written is left."""
    target = tmp_path / "clip.wav"
    atomic_write_bytes(target, DATA, replace=False)
    assert target.read_bytes() == DATA
    with pytest.raises(FileExistsError):
        atomic_write_bytes(target, b"other", replace=False)
    assert target.read_bytes() == DATA
    _no_parts(tmp_path)
    atomic_write_bytes(target, b"other")  # the default still replaces
    assert target.read_bytes() == b"other"
