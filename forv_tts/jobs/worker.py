"""A batch worker's side: set the process up, run one planned `Task` through `run_item`, and turn
the outcome (success or a typed error) into its manifest record.

Runs in a spawned worker process, or in-process for `jobs == 1`.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forv_tts._process import startup
from forv_tts.config import SynthesisConfig
from forv_tts.errors import DiskFullError, ForvError
from forv_tts.jobs.item import Destination, UploadSpec, run_item, upload_clip
from forv_tts.jobs.manifest import STATUS_FAILED, STATUS_OK, file_sha256
from forv_tts.storage.naming import ClipName
from forv_tts.voices.base import VoiceInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """One item, resolved by the planner: everything a worker needs, picklable."""

    record: dict[str, Any]
    info: VoiceInfo
    text: str
    path: str
    name: ClipName
    config: SynthesisConfig
    upload: UploadSpec | None
    previous: dict[str, Any] | None = None  # verified clip on disk that only needs uploading
    audio_format: str = "wav"
    captions: str | None = None  # "srt" or "vtt": written beside the clip
    #: The run's --out-dir, where `path` is the clip's team name: `run_item` writes it there and refuses
    #: a different request for a clip its uuid already names (None: `path` is written as given).
    out_dir: str | None = None


work_lock = threading.Lock()
"""Held while an item runs, so the parent-death watcher exits only between items, never mid-write."""


class _WarningCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def process_task(task: Task) -> dict[str, Any]:
    """Synthesise (or, for a verified clip, only upload) one item; failures become a failed record.

    Returns `{"record": ..., "pid": ..., "maxrss_kb": ...}`. Never raises for a bad item: the run goes on.
    A failed record carries the error's `error` message and `error_code`.
    """
    t0 = time.perf_counter()
    record = dict(task.record)
    capture = _WarningCapture()
    pkg_log = logging.getLogger("forv_tts")
    pkg_log.addHandler(capture)
    # An item's warnings (e.g. dropped characters) go to its manifest record; thousands of them on stderr
    # would bury the failures. With -v (INFO) they are shown as well.
    propagate = pkg_log.propagate
    pkg_log.propagate = pkg_log.getEffectiveLevel() <= logging.INFO
    path = Path(task.path)
    try:
        if task.previous is not None and file_sha256(path) == task.previous.get("sha256"):
            for key in ("normalized", "duration", "sample_rate", "sha256"):
                record[key] = task.previous.get(key)
            if task.upload is not None:
                record["uri"] = upload_clip(path, task.name, task.upload).uri
        else:
            startup.size_threads_for(task.info.engine)
            result = run_item(
                task.text,
                member=task.info,
                uuid=task.name.uuid,
                created_at=task.name.created_at,
                config=task.config,
                destination=(
                    Destination(local_dir=Path(task.out_dir), upload=task.upload, format=task.audio_format)
                    if task.out_dir is not None
                    else Destination(local_dir=None, path=path, upload=task.upload, format=task.audio_format)
                ),
            )
            if task.captions is not None:
                from forv_tts.storage.local import atomic_write_bytes
                from forv_tts.timing import captions

                beside = path.with_suffix("." + task.captions)
                atomic_write_bytes(beside, captions(result.spoken, task.captions).encode("utf-8"))
                record["captions"] = str(beside)
            record.update(
                normalized=result.normalized,
                duration=round(result.duration, 3),
                sample_rate=result.sample_rate,
                sha256=result.sha256,
            )
            if result.uri is not None:
                record["uri"] = result.uri
        record["status"] = STATUS_OK
    except DiskFullError as err:
        # Not this line's fault: the run stops and --resume redoes it (`BatchRun._record`).
        record.update(status=None, error=None, disk_full=str(err))
    except ForvError as err:
        partial = getattr(err, "partial", None)
        if partial is not None:  # written, not uploaded: resume only uploads it
            record.update(
                normalized=partial.normalized,
                duration=round(partial.duration, 3),
                sample_rate=partial.sample_rate,
                sha256=partial.sha256,
            )
        record.update(status=STATUS_FAILED, error=str(err), error_code=err.code)
    except Exception as err:
        log.debug("line %s failed", record.get("line"), exc_info=True)
        record.update(
            status=STATUS_FAILED, error=f"unexpected {type(err).__name__}: {err}", error_code="internal"
        )
    finally:
        pkg_log.removeHandler(capture)
        pkg_log.propagate = propagate
    if capture.messages:
        record["warnings"] = capture.messages
    record["seconds"] = round(time.perf_counter() - t0, 3)
    return {
        "record": record,
        "pid": os.getpid(),
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def worker_task(task: Task) -> dict[str, Any]:
    """`process_task` under `work_lock` (the pool's entry point)."""
    with work_lock:
        return process_task(task)


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            with work_lock:
                os._exit(0)


def init_worker(threads: int, log_level: int, parent_pid: int) -> None:
    """Worker set-up: SIGINT is the parent's business, stdout is the parent's data channel."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # systemd/Kubernetes signal the whole group too
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the manifest path / JSON
    os.environ["OMP_NUM_THREADS"] = str(threads)  # this process's own OpenMP pool, before torch loads
    startup.before_torch_import()
    startup.want_synthesis_threads(threads)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("forv-tts: %(levelname)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger("forv_tts").setLevel(log_level)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="parent-watch").start()
