"""Issue 14: what a user types or a machine does never replaces a device or ends in "unexpected …"."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forv_tts.cli import app

UUID = "022db29c-d0e2-11e5-bb4c-60f81dca7676"
TEXT = "안녕하세요."


def _console_script() -> str:
    found = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert found, "the forv-tts console script is not installed next to this interpreter"
    return found


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: bytes = b"", **kw: Any):
    return subprocess.run(
        [_console_script(), *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=300,
        **kw,
    )


def _one_error_line(stderr: str, needle: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("forv-tts: error: "), stderr
    assert needle in lines[0], stderr
    assert "unexpected" not in lines[0] and ".part" not in lines[0]
    return lines[0]


# --- -o onto things that are not regular files --------------------------------------------------


def _device(path: Path, minor: int) -> Path:
    """A copy of /dev/null (minor 3) or /dev/full (7): tests never aim `-o` at /dev itself (run against a
    regression as root, that would replace the machine's own devices with wav files)."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("mknod needs root")
    return path


def test_say_to_a_null_device_keeps_the_device(runner: CliRunner, in_tmp: Path) -> None:
    dev = _device(in_tmp / "null", 3)
    r = runner.invoke(app, ["say", TEXT, "-o", str(dev)])
    assert r.exit_code == 0, r.output
    assert stat.S_ISCHR(os.lstat(dev).st_mode)
    assert [p.name for p in in_tmp.iterdir()] == ["null"]


def test_say_to_a_full_device_is_reported(runner: CliRunner, in_tmp: Path) -> None:
    dev = _device(in_tmp / "full", 7)
    r = runner.invoke(app, ["say", TEXT, "-o", str(dev)])
    assert r.exit_code == 1
    _one_error_line(r.stderr, "no space left")
    assert stat.S_ISCHR(os.lstat(dev).st_mode)


def test_say_to_stdout_by_path_is_wav_bytes_only(tmp_path: Path) -> None:
    (tmp_path / "out").symlink_to("/proc/self/fd/1")  # what /dev/stdout is
    r = _run("say", TEXT, "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout[:4] == b"RIFF" and b"out\n" not in r.stdout[-8:]
    assert (tmp_path / "out").is_symlink() and [p.name for p in tmp_path.iterdir()] == ["out"]


def test_say_through_a_symlink_writes_its_target(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "target.wav").write_bytes(b"old")
    (in_tmp / "link.wav").symlink_to("target.wav")
    r = runner.invoke(app, ["say", TEXT, "-o", "link.wav"])
    assert r.exit_code == 0, r.output
    assert (in_tmp / "link.wav").is_symlink()
    assert (in_tmp / "target.wav").read_bytes()[:4] == b"RIFF"


@pytest.mark.parametrize(
    ("make", "out", "needle"),
    [
        (lambda d: (d / "adir").mkdir(), "adir", "is a directory"),
        (lambda d: (d / "afile").write_bytes(b"x"), "afile/out.wav", "afile is a file"),
    ],
)
def test_say_bad_output_path_exit_2(
    runner: CliRunner, in_tmp: Path, make: Any, out: str, needle: str
) -> None:
    make(in_tmp)
    before = sorted(p.name for p in in_tmp.rglob("*"))
    r = runner.invoke(app, ["say", TEXT, "-o", out])
    assert r.exit_code == 2, r.output
    _one_error_line(r.stderr, needle)
    assert sorted(p.name for p in in_tmp.rglob("*")) == before


def test_say_read_only_and_full_file_systems(runner: CliRunner, in_tmp: Path, small_fs: Any) -> None:
    ro = small_fs(64, readonly=True)
    r = runner.invoke(app, ["say", TEXT, "-o", str(ro / "out.wav")])
    assert r.exit_code == 2, r.output
    _one_error_line(r.stderr, "read-only")
    full = small_fs(16)
    r = runner.invoke(app, ["say", "안녕하세요. " * 20, "-o", str(full / "out.wav")])
    assert r.exit_code == 1, r.output
    _one_error_line(r.stderr, "no space left")
    assert list(full.iterdir()) == []
