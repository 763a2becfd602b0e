"""Issue 14 for `batch`: a full disk stops the run cleanly; SIGTERM is a clean stop like Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest


def _console_script() -> str:
    found = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert found
    return found


def _lines(manifest: Path) -> list[dict[str, Any]]:
    raw = manifest.read_bytes()
    assert raw.endswith(b"\n") or raw == b"", "a torn last record"
    return [json.loads(line) for line in raw.splitlines()]  # every line parses: nothing torn


def test_disk_full_stops_cleanly_and_resume_continues(tmp_path: Path, small_fs: Any) -> None:
    fs = small_fs(400)  # a real tmpfs: the kernel says ENOSPC
    n = 30
    lines = tmp_path / "lines.txt"
    lines.write_text("".join(f"안녕하세요. 오늘 날씨가 좋네요 {i}번\n" for i in range(n)), encoding="utf-8")
    args = [_console_script(), "batch", str(lines), "--out-dir", str(fs), "--jobs", "1"]
    r = subprocess.run(args, capture_output=True, timeout=600)
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert f"no space left on the device holding {fs}" in err
    assert "rerun with --resume" in err and "Free space" in err
    assert "unexpected" not in err and "Errno 28" not in err and ".part" not in err
    records = _lines(fs / "manifest.jsonl")
    assert records, "some lines fitted before the disk filled"
    assert {x["status"] for x in records} == {"ok"}, "out of space is not a per-line failure"
    assert len(records) < n
    assert not list(fs.rglob("*.part"))
    subprocess.run(["mount", "-o", "remount,size=20m", str(fs)], check=True)
    again = subprocess.run([*args, "--resume", "-q"], capture_output=True, timeout=600)
    assert again.returncode == 0, again.stderr.decode()
    done = _lines(fs / "manifest.jsonl")
    assert sorted(x["line"] for x in done) == list(range(1, n + 1))
    assert {x["status"] for x in done} == {"ok"}


@pytest.mark.slow
def test_sigterm_to_the_group_is_a_clean_stop_with_exit_143(tmp_path: Path, voice_dir: Path) -> None:
    n = 20
    (tmp_path / "lines.txt").write_text("".join(f"안녕하세요. 좋은 아침이에요 {i}\n" for i in range(n)))
    args = [_console_script(), "batch", "lines.txt", "-m", "1", "--voice-dir", str(voice_dir), "--jobs", "2"]
    args.append("--json")
    manifest = tmp_path / "manifest.jsonl"
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        while not (manifest.exists() and len(manifest.read_bytes().splitlines()) >= 2):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1].decode()
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGTERM)  # as systemd and Kubernetes do: the whole group
        out, err_bytes = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    err = err_bytes.decode()
    assert proc.returncode == 143, err
    summary = json.loads(out)  # --json reports the exit code the process really exits with
    assert summary["exit_code"] == 143 and summary["interrupted"] is True, summary
    assert "forv-tts: batch: " in err, "the summary"
    assert "terminated (SIGTERM)" in err and "rerun with --resume" in err
    assert "leaked" not in err and "resource_tracker" not in err and "Traceback" not in err
    records = _lines(manifest)
    assert 2 <= len(records) < n and {x["status"] for x in records} == {"ok"}
    resumed = subprocess.run([*args, "--resume", "-q"], cwd=tmp_path, capture_output=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert sorted(x["line"] for x in _lines(manifest)) == list(range(1, n + 1))
