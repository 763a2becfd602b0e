"""Issue 14: what a user types or a machine does never replaces a device or ends in "unexpected …"."""

from __future__ import annotations

import json
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


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["foo", "2022-8-22", "1.2.3", "2023-02-29", "20220822"])
def test_created_at_only_a_real_date(runner: CliRunner, in_tmp: Path, bad: str) -> None:
    for cmd in (["say", TEXT], ["say", TEXT, "--upload", "--bucket", "b"]):
        r = runner.invoke(app, [*cmd, "--created-at", bad])
        assert r.exit_code == 2, r.output
        _one_error_line(r.stderr, "YYYY-MM-DD")
    assert list(in_tmp.iterdir()) == []


@pytest.mark.parametrize("member", [None, "2"])
@pytest.mark.parametrize("seed", ["1180591620717411303424", "18446744073709551616", "-1"])
def test_seed_out_of_range_exit_2(
    runner: CliRunner, in_tmp: Path, voice_dir: Path, member: Any, seed: str
) -> None:
    args = ["say", TEXT, "--seed", seed, "--voice-dir", str(voice_dir)] + (["-m", member] if member else [])
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    _one_error_line(r.stderr, "from 0 to 18446744073709551615")
    assert list(in_tmp.iterdir()) == []
    (in_tmp / "l.txt").write_text("안녕\n", encoding="utf-8")
    b = runner.invoke(app, ["batch", "l.txt", "--seed", seed, "--voice-dir", str(voice_dir), "-j", "1"])
    assert b.exit_code == 2, b.output
    _one_error_line(b.stderr, "from 0 to 18446744073709551615")
    assert sorted(p.name for p in in_tmp.iterdir()) == ["l.txt"]


def test_the_largest_seed_works_for_a_member(runner: CliRunner, in_tmp: Path, voice_dir: Path) -> None:
    r = runner.invoke(
        app, ["say", TEXT, "-m", "2", "--voice-dir", str(voice_dir), "--seed", str(2**64 - 1), "-o", "a.wav"]
    )
    assert r.exit_code == 0, r.output


def test_text_cap_for_say(runner: CliRunner, in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORV_TTS_MAX_TEXT_CHARS", "30")
    r = runner.invoke(app, ["say", "안녕하세요. " * 10])
    assert r.exit_code == 2, r.output
    _one_error_line(r.stderr, "70 characters, over the limit of 30")
    assert list(in_tmp.iterdir()) == []
    assert runner.invoke(app, ["say", "안녕하세요.", "-o", "a.wav"]).exit_code == 0
    monkeypatch.setenv("FORV_TTS_MAX_TEXT_CHARS", "lots")
    bad = runner.invoke(app, ["say", "안녕하세요."])
    assert bad.exit_code == 2
    _one_error_line(bad.stderr, "FORV_TTS_MAX_TEXT_CHARS")


def test_default_text_cap_is_20000(runner: CliRunner, in_tmp: Path) -> None:
    r = runner.invoke(app, ["say", "가" * 20_001])
    assert r.exit_code == 2, r.output
    _one_error_line(r.stderr, "over the limit of 20,000")


def test_text_cap_fails_only_that_batch_line(
    runner: CliRunner, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORV_TTS_MAX_TEXT_CHARS", "100")
    Path("lines.txt").write_text("안녕하세요.\n" + "가" * 5000 + "\n고맙습니다.\n", encoding="utf-8")
    r = runner.invoke(app, ["batch", "lines.txt", "--jobs", "1"])
    assert r.exit_code == 1, r.output
    records = [json.loads(x) for x in Path("manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["status"] for x in records] == ["ok", "failed", "ok"]
    assert "5,000 characters, over the limit of 100" in records[1]["error"]
    assert len(records[1]["text"]) < 300
