"""The exit that skips torch's teardown (passive OpenMP: test_perf_equivalence.py, through the CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "PYTHONUNBUFFERED")},
        timeout=120,
    )


@pytest.mark.parametrize("code", [0, 3])
def test_fast_exit_keeps_code_output_and_atexit(tmp_path: Path, code: int) -> None:
    r = _python(
        f"""
        import atexit, sys
        import torch
        from forv_tts.runtime import exit_without_teardown
        atexit.register(lambda: open("atexit-ran", "w").close())
        sys.stdout.write("x" * 1000)  # stays in the pipe buffer: only a flush delivers it
        sys.stderr.write("last words")
        exit_without_teardown({code})
        raise AssertionError("not reached")
        """,
        tmp_path,
    )
    assert r.returncode == code, r.stderr
    assert r.stdout == b"x" * 1000
    assert r.stderr == b"last words"
    assert (tmp_path / "atexit-ran").exists()


def test_fast_exit_waits_like_a_normal_exit_for_other_threads(tmp_path: Path) -> None:
    r = _python(
        """
        import threading, time
        import torch
        from forv_tts.runtime import exit_without_teardown
        def work():
            time.sleep(0.5)
            open("thread-finished", "w").close()
        threading.Thread(target=work).start()
        exit_without_teardown(0)
        """,
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "thread-finished").exists()


def test_without_torch_it_is_sys_exit(tmp_path: Path) -> None:
    r = _python(
        """
        import sys
        from forv_tts.runtime import exit_without_teardown
        try:
            exit_without_teardown(4)
        except SystemExit as e:
            print("SystemExit", e.code, "torch" in sys.modules)
        """,
        tmp_path,
    )
    assert r.stdout.split() == [b"SystemExit", b"4", b"False"]
