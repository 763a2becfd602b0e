"""Run one child process and measure its own wall time, CPU time and peak RSS.

Why a launcher: Linux keeps a process's peak RSS (`ru_maxrss`) across `execve`, and subprocess starts
children with vfork, so a child of a large process reports at least its parent's size: a 20 MB
`forv-tts --help` spawned from a bench process holding 2 GB reports 2 GB. The command is therefore
started by this file run as a script, a small interpreter that forks it: a forked child gets a fresh
peak, taken from the launcher's few MB. The launcher also takes the wall time around fork and wait, so
its own start-up is not counted.

    python -S bench/spawn.py RESULT.json CMD [ARG ...]    (what `measure` runs)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measured:
    """One child's figures, from its own `wait4` rusage."""

    wall_s: float
    cpu_s: float
    rss_mb: float
    rc: int
    stdout: str
    stderr: str


def measure(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 900,
) -> Measured:
    """Run `argv` through the launcher (stdin closed) and return its figures and output."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(suffix=".json") as result,
    ):
        launcher = [sys.executable, "-S", __file__, result.name, *argv]
        proc = subprocess.Popen(launcher, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)  # the launcher's own group: it and the command it forked
            proc.wait()
        data = json.loads(Path(result.name).read_text() or "{}")
        out.seek(0)
        err.seek(0)
        return Measured(
            wall_s=float(data.get("wall_s", float("nan"))),
            cpu_s=float(data.get("cpu_s", float("nan"))),
            rss_mb=float(data.get("rss_kb", float("nan"))) / 1024,
            rc=int(data.get("rc", proc.returncode if proc.returncode is not None else -9)),
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def stop(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Stop a server a bench started, by its PID: SIGTERM, then SIGKILL if it has not exited in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def _launch(result: str, argv: list[str]) -> int:
    os.setpgid(0, 0)  # the command and anything it starts share one group, killed on timeout
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    Path(result).write_text(
        json.dumps(
            {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss, "rc": rc}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(_launch(sys.argv[1], sys.argv[2:]))
