"""Feedback on long work for people: a Rich bar on a terminal, periodic plain lines in logs.

Plain lines are time-based (a ticker thread), so a log shows the work is alive even while one long
sentence or batch item runs; their interval is `$FORV_TTS_PROGRESS_INTERVAL` seconds (default 10).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import typer

#: More sentences than this get feedback ("longer than a few sentences").
FEW_SENTENCES = 3


def progress_interval(default: float = 10.0) -> float:
    """Seconds between plain progress lines: `$FORV_TTS_PROGRESS_INTERVAL`, else `default` (at least
    0.05 s). A malformed value is the registry's one-line error, raised before any work starts."""
    from forv_tts import settings

    value = settings.PROGRESS_INTERVAL.get()
    return max(0.05, value if value is not None else default)


class SayProgress:
    """`progress(done, total)` for `synthesis.say`: silent for a few sentences, else a bar or log lines."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self._done = 0
        self._total = 0
        self._t0 = time.monotonic()
        self._interval = progress_interval() if enabled else 10.0  # read here, before any work

    def __call__(self, done: int, total: int) -> None:
        self._done, self._total = done, total
        if not self.enabled or total <= FEW_SENTENCES:
            return
        if self._bar is None and self._ticker is None:
            self._start()
        if self._bar is not None:
            self._bar.update(self._task, total=total, completed=done)

    def _start(self) -> None:
        self._t0 = time.monotonic()
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("[bold]say"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("sentences"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._task = self._bar.add_task("say", total=self._total, completed=self._done)
            self._bar.start()
        else:
            # The first line after one interval: work that ends sooner leaves the log as it was.
            self._ticker = threading.Thread(target=self._tick, daemon=True, name="say-progress")
            self._ticker.start()

    def _line(self) -> None:
        elapsed = time.monotonic() - self._t0
        typer.echo(f"forv-tts: say: {self._done}/{self._total} sentences, {elapsed:.0f} s elapsed", err=True)

    def _tick(self) -> None:
        while not self._stop.wait(self._interval):
            self._line()

    def close(self) -> None:
        """Stop the bar or the ticker (also after an error)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(1)
        if self._bar is not None:
            self._bar.stop()
