"""Normalisation for the page, in a child process: the API process imports no g2pk (nor torch).

`forv_tts.text.normalize_stages(..., explain=True)` with the lexicon resolved from the voice directory
and $FORV_TTS_LEXICON is what `forv-tts normalize --json --voice-dir DIR` prints, so the page shows the
same sentences, stages, rewrites and lexicon entries. It needs g2pk and its
morphological analyser, which the API process must not load: one spawned child, started on the first
request and kept, does the work; requests queue for it (a sentence takes milliseconds). A child that
dies is replaced, and a child stuck past the timeout is killed and replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
#: Longest a request waits for the child (start-up included) before it is answered with an error.
DEFAULT_TIMEOUT_S = 60.0


class NormalizerUnavailableError(RuntimeError):
    """The child process could not answer (it died, or took longer than the timeout)."""


def _child_init() -> None:
    """In the child: die with the API process, and load g2pk before the first request is timed."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the whole group: the parent stops us.
    from forv_tts import text

    text.normalize_stages("안녕하세요. 3개.", explain=True)


def _stages(text: str, voice_dir: str | None) -> list[dict[str, Any]]:
    """In the child: the sentences and their stages (plain values, so they pickle).

    The lexicon is read again for every request (parsed again only when it changed), as the workers
    read it for every job: a linguist editing lexicon.tsv sees the change at once, on the page and in the
    audio.
    """
    from forv_tts import text as norm

    lexicon = norm.resolve_lexicon(voice_dir=voice_dir)
    return norm.normalize_stages(text, lexicon=lexicon, explain=True)


class Normalizer:
    """A lazily started one-process pool running `normalize_stages`; thread- and task-safe.

    `voice_dir`: where lexicon.tsv is looked for (the service's --voice-dir).
    """

    def __init__(self, voice_dir: Path | str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.voice_dir = None if voice_dir is None else str(voice_dir)
        self.timeout_s = timeout_s
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the API process runs an event loop and threads that must not be copied.
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_child_init
                )
                log.info("normaliser child process starting")
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        # Python 3.11's executor has no public way to stop a busy child (3.14 adds terminate_workers).
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def stages(self, text: str) -> list[dict[str, Any]]:
        """`normalize_stages(text, lexicon=..., explain=True)` from the child.

        Library errors (`ForvError`, e.g. a malformed lexicon.tsv) come back as raised.

        A child found dead is replaced and the text tried once more in the new one.
        """
        for attempt in (1, 2):
            pool = self._executor()
            try:
                future = asyncio.wrap_future(pool.submit(_stages, text, self.voice_dir))
                return await asyncio.wait_for(future, self.timeout_s)
            except BrokenProcessPool:
                self._discard(pool)
                log.warning("normaliser child process died (attempt %d)", attempt)
            except TimeoutError:
                # The child may be stuck on this text: replace it so the next request gets a fresh one.
                self._discard(pool)
                raise NormalizerUnavailableError(
                    f"normalising took longer than {self.timeout_s:g} s: try a shorter text"
                ) from None
        raise NormalizerUnavailableError("the normaliser process died twice on this text: try another text")

    def pid(self) -> int | None:
        """The child's process id, once started (for tests and logs)."""
        pool = self._pool
        processes = list((getattr(pool, "_processes", None) or {}).values()) if pool is not None else []
        return processes[0].pid if processes else None

    def close(self) -> None:
        """Stop the child (if one was started)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
