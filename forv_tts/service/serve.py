"""`forv-tts serve`: the API on uvicorn, plus (with no broker) the embedded server and local workers.

Everything it starts is its child, started with a parent-death signal and stopped by PID on the way out
(SIGINT, SIGTERM, or an error), so nothing outlives it. This process is the API process: it imports no
torch; workers are separate interpreters (`python -m forv_tts worker`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from forv_tts.service.embedded import EmbeddedServer, die_with_parent
from forv_tts.service.settings import ServiceSettings

log = logging.getLogger(__name__)

WORKER_STOP_S = 10.0
STATE_DIR_NAME = ".forv-tts-state"
#: `ServiceSettings.extra` key: how many local workers `serve` started (they share its --out-dir).
LOCAL_WORKERS = "local_workers"


@dataclass
class LocalWorkers:
    """One `forv-tts worker` child with N pool processes, restarted if it dies while serving."""

    settings: ServiceSettings
    concurrency: int
    loglevel: str = "WARNING"
    process: subprocess.Popen[bytes] | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _watch: threading.Thread | None = None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "forv_tts",
            "worker",
            "--members",
            "all",
            "--concurrency",
            str(self.concurrency),
            "--loglevel",
            self.loglevel,
        ]

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, **self.settings.to_env()}
        return subprocess.Popen(self.command(), env=env, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)

    def start(self) -> LocalWorkers:
        self.process = self._spawn()
        log.info("started %d local worker processes (pid %d)", self.concurrency, self.process.pid)
        self._watch = threading.Thread(target=self._supervise, daemon=True, name="forv-tts-workers")
        self._watch.start()
        return self

    def _supervise(self) -> None:
        restarts = 0
        while not self._stopping.wait(1.0):
            proc = self.process
            if proc is not None and proc.poll() is not None and not self._stopping.is_set():
                restarts += 1
                log.warning("local worker exited with %s; restarting (%d)", proc.returncode, restarts)
                time.sleep(min(5.0, restarts))
                if not self._stopping.is_set():
                    self.process = self._spawn()

    def stop(self) -> None:
        """Warm shutdown (SIGTERM: finish the running job), then SIGKILL after WORKER_STOP_S."""
        self._stopping.set()
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=WORKER_STOP_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def state_dir(settings: ServiceSettings) -> Path:
    """Where the embedded store keeps its append-only file: $FORV_TTS_STATE_DIR, else under --out-dir."""
    from forv_tts.settings import STATE_DIR

    chosen = STATE_DIR.get()
    return Path(chosen) if chosen is not None else settings.out_dir / STATE_DIR_NAME


class _StopRequested(Exception):
    pass


def _stop_requested(_signum: int, _frame: object) -> None:
    raise _StopRequested


def run(
    settings: ServiceSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    loglevel: str = "info",
) -> None:
    """Serve until SIGINT/SIGTERM; then stop the workers and the embedded server."""
    import uvicorn

    from forv_tts.service import guard
    from forv_tts.service.api import create_app
    from forv_tts.service.worker import cores

    embedded: EmbeddedServer | None = None
    local: LocalWorkers | None = None
    try:
        if not settings.broker_url:
            embedded = EmbeddedServer(state_dir=state_dir(settings)).start().supervise()
            settings = settings.with_urls(embedded.url, embedded.url)
        n = workers if workers is not None else cores()
        # The API's /readyz then also answers for the directory these workers write clips to.
        settings = dataclasses.replace(settings, extra={**settings.extra, LOCAL_WORKERS: n})
        if n > 0:
            local = LocalWorkers(settings, n, loglevel="INFO" if loglevel == "debug" else "WARNING").start()
        app = create_app(settings)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=loglevel,
            timeout_graceful_shutdown=5,
            access_log=loglevel == "debug",
            **guard.uvicorn_options(),
        )
        # uvicorn re-raises the SIGINT/SIGTERM it caught once it has shut down; ours turns that into a
        # normal return, so the clean-up below runs (the default SIGTERM action would skip it).
        previous = {sig: signal.signal(sig, _stop_requested) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            uvicorn.Server(config).run()
        except _StopRequested:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        if local is not None:
            local.stop()
        if embedded is not None:
            embedded.stop()
